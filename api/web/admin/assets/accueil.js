// The département's home page: the timeline warnings and a few figures.
"use strict";

(async () => {
  const { api, el, euros, group, fail } = PN;

  async function warnings() {
    const box = document.getElementById("warnings");
    const w = await api("GET", "/api/v1/warnings");
    locks(w);
    if (w.warnings.length === 0) {
      box.replaceChildren(el("p", null, `Aucune alerte au ${PN.day(w.as_of)} : toutes les commandes sont en cours.`));
      return;
    }
    box.replaceChildren(el("ul", { class: "plain warnings" }, w.warnings.map((x) => el("li", null,
      el("strong", null, `Commande n° ${x.batch_id} (${x.department}) — ${PN.stages[x.stage] || x.stage} : `),
      x.message, " ",
      el("a", { href: `/departement/commandes#commande-${x.batch_id}` }, `Suivre la commande n° ${x.batch_id}`)))));
  }

  function locks(w) {
    const box = document.getElementById("locks");
    if (w.manual_entry_locks.length === 0) {
      box.replaceChildren(el("p", null, "Aucun blocage ces 7 derniers jours."));
      return;
    }
    box.replaceChildren(el("ul", { class: "plain warnings" }, w.manual_entry_locks.map((l) => el("li", null,
      el("strong", null, `${l.venue_name} — ${l.active ? "bloqué en ce moment" : "blocage terminé"} : `),
      l.message, " ",
      el("a", { href: `/departement/lieux#lieu-${l.venue_id}` }, `Voir le lieu n° ${l.venue_id}`)))));
  }

  async function summary() {
    const f = await api("GET", "/api/v1/figures");
    const t = f.total;
    const item = (label, value) => el("div", null, el("dt", null, label), el("dd", null, value));
    document.getElementById("summary").replaceChildren(el("dl", { class: "figures" },
      item("Chéquiers imprimés", group(t.chequiers_printed)),
      item("Chéquiers remis", group(t.chequiers_handed_out)),
      item("Chèques encaissés", group(t.vouchers_redeemed)),
      item("Montant encaissé", euros(t.redeemed_cents)),
      item("Chèques encore utilisables", group(t.vouchers_outstanding))));
  }

  const results = await Promise.allSettled([warnings(), summary()]);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) fail(failed.reason);
})();
