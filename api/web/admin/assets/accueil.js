// The département's home page: the timeline warnings and a few figures.
import { session, api, el, group, euros, day, dateTime, stages, say, fail } from "./common.js";

async function warnings() {
  const box = document.getElementById("warnings");
  const w = await api("GET", "/api/v1/warnings");
  locks(w);
  shared(w);
  if (w.warnings.length === 0) {
    box.replaceChildren(el("p", null, `Aucune alerte au ${day(w.as_of)} : toutes les commandes sont en cours.`));
    return;
  }
  box.replaceChildren(el("ul", { class: "plain warnings" }, w.warnings.map((x) => el("li", null,
    el("strong", null, `Commande n° ${x.batch_id} (${x.department}) — ${stages[x.stage] || x.stage} : `),
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

// shared lists the change requests awaiting the département, each with
// its decision (auditors only read), and others' changes to shared venues.
function shared(w) {
  const box = document.getElementById("change-requests");
  if (w.venue_change_requests.length === 0) {
    box.replaceChildren(el("p", null, "Aucune demande de changement n'attend votre accord."));
  } else {
    box.replaceChildren(el("ul", { class: "plain warnings" }, w.venue_change_requests.map((r) => {
      const li = el("li", { id: `demande-${r.id}` }, el("strong", null, `Demande n° ${r.id} — ${r.venue_name} : `), r.message);
      if (session.role !== "auditor") {
        const why = el("input", { type: "text", maxlength: "200", "aria-label": `Motif du refus de la demande n° ${r.id}` });
        const decide = (action, body) => async () => {
          try {
            const out = await api("POST", `/api/v1/venue-change-requests/${r.id}/${action}`, body());
            await warnings();
            // The list was drawn again: the message goes by the section.
            say(out.message, box);
          } catch (e) {
            fail(e, li);
          }
        };
        li.append(" ", el("button", { type: "button", onclick: decide("approval", () => ({})) }, "Approuver"),
          " ", why, " ", el("button", { type: "button", onclick: decide("refusal", () => ({ reason: why.value })) }, "Refuser"));
      }
      return li;
    })));
  }
  const notices = document.getElementById("venue-notices");
  notices.replaceChildren(w.venue_notices.length === 0 ? el("p", null, "Aucun changement fait par d'autres ces 31 derniers jours.") :
    el("ul", { class: "plain warnings" }, w.venue_notices.map((n) => el("li", null, n.message, " ",
      el("a", { href: `/departement/lieux#lieu-${n.venue_id}` }, `Voir le lieu n° ${n.venue_id}`)))));
}

// secondPerson lists what waits for a second person in the département:
// a paying office to confirm or refuse here, a closing to confirm on the
// settlement page. Who may confirm is the API's answer.
async function secondPerson() {
  const box = document.getElementById("second-person");
  const ds = (await api("GET", "/api/v1/departments")).departments;
  const items = [];
  for (const d of ds) {
    for (const a of d.awaiting) {
      const li = el("li", { id: `attente-${d.code}-${a.subject.replace(":", "-")}` });
      const by = a.by_you ? "par vous" : `par ${a.asked_by}`;
      if (a.subject === "settings") {
        // What was asked, in words: only the settings asked.
        const asked = [];
        if (a.data.payer_name || a.data.payer_iban) {
          asked.push(`compte payeur ${a.data.payer_name || d.payer_name || ""}` +
            (a.data.payer_iban ? `, IBAN qui finit par ${a.data.payer_iban.slice(-4)}` : ""));
        }
        if (a.data.commission_basis_points !== undefined) {
          asked.push(`commission de ${(a.data.commission_basis_points / 100).toLocaleString("fr-FR")} %`);
        }
        if (a.data.close_four_eyes === false) asked.push("fin de la double validation des clôtures");
        li.append(el("strong", null, `Réglages d’argent pour ${d.name} (${d.code}) : `),
          `${asked.join(" ; ")}. Demandé le ${dateTime(a.asked_at)} ${by}.`);
        const why = el("input", { type: "text", maxlength: "200", "aria-label": `Motif du refus des réglages de ${d.code}` });
        const decide = (action, body, done) => async () => {
          try {
            await api("POST", `/api/v1/departments/${d.code}/settings/${action}`, body);
            await secondPerson();
            say(done, box);
          } catch (e) {
            fail(e, li);
          }
        };
        if (!a.by_you) {
          li.append(" ", el("button", { type: "button", onclick: decide("confirmation", undefined,
            `Les réglages de ${d.code} sont confirmés : ils s’appliquent dès maintenant.`) }, "Confirmer"));
        }
        li.append(" ", why, " ", el("button", { type: "button", class: "secondary", onclick: async () => {
          await decide("refusal", { reason: why.value }, `Les réglages demandés pour ${d.code} sont refusés : rien ne change.`)();
        } }, a.by_you ? "Retirer ma demande" : "Refuser"));
      } else {
        li.append(el("strong", null, `${a.what} (${d.code}) : `), `demandée le ${dateTime(a.asked_at)} ${by}. `,
          el("a", { href: "/departement/remboursements" }, "Aller aux remboursements"));
      }
      items.push(li);
    }
  }
  box.replaceChildren(items.length === 0 ? el("p", null, "Rien n’attend de deuxième personne.") : el("ul", { class: "plain warnings" }, items));
}

async function summary() {
  const f = await api("GET", "/api/v1/figures");
  const t = f.total;
  const item = (label, value) => el("div", null, el("dt", null, label), el("dd", null, value));
  document.getElementById("summary").replaceChildren(el("dl", { class: "figures" },
    item("Chéquiers imprimés", group(t.chequiers_printed)),
    item("Chéquiers remis", group(t.chequiers_handed_out)),
    ...(t.chequiers_untracked > 0 ? [item("Chéquiers à remise non suivie", group(t.chequiers_untracked))] : []),
    item("Chèques encaissés", group(t.vouchers_redeemed)),
    item("Montant encaissé", euros(t.redeemed_cents)),
    item("Chèques encore utilisables", group(t.vouchers_outstanding))));
}

const results = await Promise.allSettled([warnings(), secondPerson(), summary()]);
const failed = results.find((r) => r.status === "rejected");
if (failed) fail(failed.reason);
