// The day and the month: the redemptions received since midnight in Paris,
// what the venue will be reimbursed for the current month, and the baskets
// still waiting for the network.

import * as codec from "./codec.js";
import { state } from "./state.js";
import { Offline, errorMessage, request } from "./network.js";
import { $ } from "./screens.js";
import { allReceipts } from "./store.js";
import { at, euros, monthFormat, plural, timeFormat, vouchersLine } from "./format.js";

// showReceipts counts the receipts kept on this device; the button saves
// them as one text file, a receipt and its vouchers' serials per line,
// which `passnum verify` and `passnum audit receipts` read as they are.
async function showReceipts() {
  const n = (await allReceipts()).length;
  // A count, not a sum: a receipt stays when its redemption is undone (the
  // undoing is in the ledger), so a sum would say more than is owed.
  $("total-recus").textContent = n ? `${plural(n, "reçu gardé", "reçus gardés")} sur cet appareil.` : "Aucun reçu sur cet appareil pour l'instant.";
  $("telecharger-recus").hidden = n === 0;
}

// downloadReceipts builds the file when asked, so that it holds every
// receipt kept up to that moment.
export async function downloadReceipts() {
  const receipts = (await allReceipts()).sort((a, b) => a.id - b.id);
  const text = receipts.map((r) => `${r.receipt} ${r.serials.join(",")}\n`).join("");
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
  a.download = `recus-passnum-${new Date().toISOString().slice(0, 10)}.txt`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60000);
}

export async function loadToday() {
  showReceipts().catch(() => { $("total-recus").textContent = "Les reçus de cet appareil ne peuvent pas être lus."; });
  const total = $("total-journee"), list = $("liste-journee"), month = $("total-mois");
  const waiting = $("bloc-attente");
  waiting.hidden = state.queue.length === 0;
  $("liste-attente").replaceChildren(...state.queue.map((q) => {
    const li = document.createElement("li");
    li.textContent = `Scanné ${at(q.scanned_at)} : ${vouchersLine(q.items)}.`;
    return li;
  }));
  if (!state.device) return;
  const now = new Date();
  try {
    const from = codec.startOfParisDay(now).toISOString();
    const res = await request("GET", `/api/v1/redemptions?from=${encodeURIComponent(from)}`);
    if (res.status !== 200) {
      total.textContent = errorMessage(res);
    } else {
      const rs = res.data.redemptions;
      const accepted = rs.filter((r) => r.status === "accepted");
      const sum = accepted.reduce((s, r) => s + r.total_cents, 0);
      total.textContent = accepted.length ? `${euros(sum)} encaissés en ${plural(accepted.length, "panier", "paniers")}.` : "Aucun encaissement aujourd'hui.";
      list.replaceChildren(...rs.map((r) => {
        const li = document.createElement("li");
        li.className = "article " + (r.status === "accepted" ? "ok" : "annule");
        li.textContent = `${timeFormat.format(new Date(r.received_at))} — ${euros(r.total_cents)} — ${r.status === "accepted" ? "encaissé" : "annulé"}` +
          (r.session ? ` (${r.session})` : "");
        return li;
      }));
    }
    const p = Object.fromEntries(new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Paris", year: "numeric", month: "2-digit" })
      .formatToParts(now).map((x) => [x.type, x.value]));
    const st = await request("GET", `/api/v1/statements?month=${p.year}-${p.month}`);
    month.textContent = st.status === 200
      ? `Remboursement prévu pour ${monthFormat.format(now)} : ${euros(st.data.net_cents)}.`
      : errorMessage(st);
  } catch (e) {
    if (!(e instanceof Offline)) throw e;
    total.textContent = "Hors ligne : les encaissements du jour s'afficheront au retour du réseau.";
    list.replaceChildren();
    month.textContent = "";
  }
}
