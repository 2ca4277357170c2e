// A venue's redemptions (filtered by days and status) and its statements
// of a month, with each statement's PDF once the month is closed and its
// lines as CSV: what its manager checks before the reimbursement.
import { api, dateTime, el, euros, fail, fetchDownload, invalid, parisMonth, plural, say, submit, table } from "./common.js";

const historyForm = document.getElementById("history");
const statementForm = document.getElementById("statements");

// parisMidnight is the instant a day starts in Paris (23:00 or 22:00 UTC
// the day before, by the season).
function parisMidnight(day) {
  const utc = Date.parse(`${day}T00:00:00Z`);
  const hour = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Paris", hour: "2-digit", hourCycle: "h23" });
  for (const back of [1, 2]) {
    const t = new Date(utc - back * 3600e3);
    if (hour.format(t) === "00") return t;
  }
  return new Date(utc);
}

function nextDay(day) {
  const d = new Date(`${day}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

const statuses = { accepted: "encaissé", reversed: "annulé" };
// Each display bumps its counter; an answer for an earlier one is dropped.
let historyShown = 0, statementsShown = 0;

async function showHistory(data) {
  const from = String(data.get("from") || ""), to = String(data.get("to") || ""), status = String(data.get("status") || "");
  if (!from) throw invalid("from", "Choisissez le premier jour.");
  if (!to) throw invalid("to", "Choisissez le dernier jour.");
  if (to < from) throw invalid("to", "Le dernier jour est avant le premier : changez l’un des deux.");
  const q = `from=${encodeURIComponent(parisMidnight(from).toISOString())}&to=${encodeURIComponent(parisMidnight(nextDay(to)).toISOString())}`;
  const mine = ++historyShown;
  const answer = await api("GET", `/api/v1/redemptions?${q}`);
  if (mine !== historyShown) return;
  const rs = answer.redemptions.filter((r) => !status || r.status === status);
  const kept = rs.filter((r) => r.status === "accepted");
  // The server gives at most 1,000, the newest: a count or a sum of a
  // part would be wrong, so the page says so.
  const partial = answer.truncated ? " Liste incomplète : seuls les 1 000 plus récents sont affichés ; choisissez moins de jours pour tout voir." : "";
  document.getElementById("history-total").textContent = (rs.length === 0 ? "Aucun encaissement pour ces jours." :
    `${rs.length} ${plural(rs.length, "encaissement", "encaissements")}${kept.length ? `, ${euros(kept.reduce((s, r) => s + r.total_cents, 0))} encaissés` : ""}.`) + partial;
  document.getElementById("history-list").replaceChildren(rs.length === 0 ? "" :
    table("Encaissements du lieu", [{ label: "Reçu le" }, { label: "Montant", num: true }, { label: "Séance" }, { label: "État" }],
      rs.map((r) => [dateTime(r.received_at), euros(r.total_cents), r.session || "",
        r.status === "reversed" ? `annulé le ${dateTime(r.reversed_at)}${r.reversal_reason ? ` (${r.reversal_reason})` : ""}` : statuses[r.status]]),
      { id: "history-table" }, true));
}

async function showStatements(month) {
  const mine = ++statementsShown;
  const s = await api("GET", `/api/v1/statements?month=${encodeURIComponent(month)}`);
  if (mine !== statementsShown) return;
  const list = document.getElementById("statement-list");
  if (s.statements.length === 0) {
    list.replaceChildren(el("p", null, "Aucun relevé pour ce mois : le lieu n’a rien encaissé."));
    return;
  }
  list.replaceChildren(el("ul", { class: "plain", id: "statement-items" }, s.statements.map((st) => {
    const base = `/api/v1/settlement/${st.department}/${s.month}/statements/${s.venue_id}`;
    const li = el("li", null, `Département ${st.department} : ${euros(st.net_cents)} à rembourser (${st.redemptions} ${plural(st.redemptions, "encaissement", "encaissements")}), ` +
      `${st.closed ? `mois clos, référence ${st.reference}` : "mois en cours, le montant peut encore changer"}. `);
    if (st.closed) li.append(fetchDownload(`${base}.pdf`, "Relevé PDF"), " ");
    li.append(fetchDownload(`${base}.csv`, "Lignes du relevé (CSV)"));
    return li;
  })));
}

submit(historyForm, async (data) => {
  await showHistory(data);
});
submit(statementForm, async (data) => {
  const month = String(data.get("month") || "");
  if (!/^\d{4}-\d{2}$/.test(month)) throw invalid("month", "Choisissez un mois, par exemple 2026-11.");
  await showStatements(month);
  say(`Relevé de ${month} affiché.`, statementForm);
});

// By default, the last 7 days and the current month.
const today = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Paris" }).format(new Date());
const weekAgo = new Date(`${today}T12:00:00Z`);
weekAgo.setUTCDate(weekAgo.getUTCDate() - 6);
historyForm.elements.namedItem("from").value = weekAgo.toISOString().slice(0, 10);
historyForm.elements.namedItem("to").value = today;
statementForm.elements.namedItem("month").value = parisMonth();
showHistory(new FormData(historyForm)).catch((err) => fail(err, historyForm));
showStatements(parisMonth()).catch((err) => fail(err, statementForm));
