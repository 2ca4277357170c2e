// Settlement: a département's month (open or closed), closing it, and its
// files: statement lines (CSV), a PDF statement per venue, SEPA transfers.
import { api, el, group, euros, plural, month, dateTime, parisMonth, clear, say, fail, submit, table, departmentSelect, fetchDownload } from "./common.js";
const deptSelect = document.getElementById("p-department");
const monthInput = document.getElementById("p-month");
const section = document.getElementById("period");
const closeForm = document.getElementById("close-form");
let shown = null; // {department, month}

const base = (d, m) => `/api/v1/settlement/${encodeURIComponent(d)}/${encodeURIComponent(m)}`;

function totals(p) {
  const item = (label, cents, key) => el("div", null, el("dt", null, label), el("dd", { "data-cents": key }, euros(cents)));
  return el("dl", { class: "figures" },
    item("Encaissé", p.gross_cents, "gross"),
    item("Annulé", p.reversed_cents, "reversed"),
    item("Ajustements", p.adjustment_cents, "adjustment"),
    item("Commission", p.commission_cents, "commission"),
    item("Net dû aux lieux", p.net_cents, "net"));
}

async function show(d, m) {
  const p = await api("GET", base(d, m));
  shown = { department: d, month: m };
  section.hidden = false;
  const title = document.getElementById("period-title");
  title.textContent = `${month(m)} — département ${d} — ${p.closed ? "clôturé" : "ouvert"}`;
  // With four eyes, a closing asked waits for a second person.
  const state = p.closed
    ? el("p", { class: "notice ok" }, `Clôturé le ${dateTime(p.closed_at)} par ${p.closed_by}. Les montants sont définitifs.`)
    : p.close_asked_by
      ? el("p", { class: "notice warn", id: "close-asked" }, `Clôture demandée le ${dateTime(p.close_asked_at)} par ${p.close_asked_by}. `
        + "Une deuxième personne doit la confirmer : c’est le même bouton ci-dessous. La personne qui l’a demandée ne peut pas la confirmer.")
      : el("p", { class: "notice warn" }, "Mois ouvert : les montants peuvent encore changer.");
  // The server says when the month may be closed; before then, the page
  // says so instead of offering to close it.
  const from = p.closed ? null : new Date(p.closable_from);
  const early = from !== null && from.getTime() > Date.now();
  const columns = [{ label: "Lieu", rowHeader: true }, { label: "Référence" }, { label: "Encaissements", num: true },
    { label: "Encaissé", num: true }, { label: "Annulé", num: true }, { label: "Ajustements", num: true },
    { label: "Commission", num: true }, { label: "Net", num: true }];
  if (p.closed) columns.push({ label: "Relevé" });
  const rows = p.statements.map((s) => {
    const r = [s.venue_name, s.reference, group(s.redemptions), euros(s.gross_cents), euros(s.reversed_cents),
      euros(s.adjustment_cents), euros(s.commission_cents), euros(s.net_cents)];
    if (p.closed) {
      r.push(fetchDownload(`${base(d, m)}/statements/${s.venue_id}.pdf`,
        ["Relevé PDF", el("span", { class: "visually-hidden" }, ` de ${s.venue_name}`)]));
    }
    return r;
  });
  const files = [fetchDownload(`${base(d, m)}/statements.csv`, "Lignes des relevés (CSV)")];
  if (p.closed) files.push(fetchDownload(`${base(d, m)}/sepa.xml`, "Fichier de virements SEPA (pain.001)"));
  document.getElementById("period-body").replaceChildren(
    state,
    early ? el("p", { class: "notice", id: "closable-from" }, `Clôture possible à partir du ${parisTime(from)} (heure de Paris).`) : null,
    totals(p),
    p.statements.length
      ? table(`Relevés des lieux, ${month(m)}`, columns, rows)
      : el("p", null, "Aucun encaissement ce mois-ci."),
    el("h3", null, "Fichiers"),
    el("ul", { class: "plain" }, files.map((f) => el("li", null, f))));
  closeForm.hidden = p.closed || early;
  document.getElementById("close-button").textContent = p.close_asked_by ? "Confirmer la clôture" : "Clôturer le mois";
  title.focus();
}

// parisTime writes an instant as "01/01/2027 à 00:15", in Paris.
function parisTime(d) {
  const f = (o) => d.toLocaleString("fr-FR", { timeZone: "Europe/Paris", ...o });
  return `${f({ day: "2-digit", month: "2-digit", year: "numeric" })} à ${f({ hour: "2-digit", minute: "2-digit" })}`;
}

async function closed() {
  const ps = await api("GET", "/api/v1/settlement/periods");
  const box = document.getElementById("closed");
  if (ps.periods.length === 0) {
    box.replaceChildren(el("p", null, "Aucun mois clôturé pour l'instant."));
    return;
  }
  box.replaceChildren(table("Mois clôturés, du plus récent au plus ancien",
    [{ label: "Mois", rowHeader: true }, { label: "Département" }, { label: "Lieux", num: true }, { label: "Net payé", num: true },
      { label: "Clôturé le" }, { label: "Détail" }],
    ps.periods.map((p) => [month(p.month), p.department, group(p.venues), euros(p.net_cents), dateTime(p.closed_at),
      el("button", { type: "button", class: "secondary", "data-department": p.department, "data-month": p.month,
        "aria-label": `Voir ${month(p.month)}, département ${p.department}` }, "Voir")])));
  box.querySelectorAll("button[data-month]").forEach((b) => b.addEventListener("click", () => {
    deptSelect.value = b.dataset.department;
    monthInput.value = b.dataset.month;
    clear();
    show(b.dataset.department, b.dataset.month).catch(fail);
  }));
}

submit(document.getElementById("period-form"), async () => {
  const m = monthInput.value.trim();
  if (!/^\d{4}-\d{2}$/.test(m)) {
    monthInput.focus();
    throw new Error("Le mois s'écrit AAAA-MM, par exemple 2026-10.");
  }
  await show(deptSelect.value, m);
});

submit(closeForm, async () => {
  if (!shown) return;
  const p = await api("POST", `${base(shown.department, shown.month)}/close`);
  closeForm.reset();
  await show(shown.department, shown.month);
  await closed();
  if (!p.closed) {
    say(`Clôture de ${month(p.month)} demandée. Le département veut l’accord de deux personnes : une autre personne doit maintenant la confirmer.`,
      document.getElementById("period-body"));
    return;
  }
  const n = p.statements.length;
  say(`${month(p.month)} clôturé pour le département ${p.department} : ${euros(p.net_cents)} à payer à ${n} ${plural(n, "lieu", "lieux")}.`,
    document.getElementById("period-body"));
});

try {
  await departmentSelect(deptSelect);
  monthInput.value = parisMonth(1);
  await closed();
} catch (err) {
  fail(err);
}
