// Redeeming a basket: sent at once (POST /api/v1/redemptions) when the
// server can be reached, or kept in the queue of baskets confirmed offline
// and sent, oldest first, when the network returns.

import * as store from "./store.js";
import { state, addToQueue, basketChanged, sealBasket, sendable, sentFirst, setLast, setSending } from "./state.js";
import { Offline, errorMessage, isOnline, request } from "./network.js";
import { clearBasket, verdict } from "./basket.js";
import { renderBasket, renderOnline, renderReport, showResult } from "./views.js";
import { $, announce } from "./screens.js";
import { at, eurosShort, plural, vouchersLine } from "./format.js";

// postBasket sends a basket under its Idempotency-Key; while the server
// still records the same basket (409 request_in_progress), it waits.
async function postBasket(body, key) {
  for (let attempt = 0; ; attempt++) {
    const res = await request("POST", "/api/v1/redemptions", { body, idempotencyKey: key });
    const code = res.data && res.data.error && res.data.error.code;
    if (res.status !== 409 || code !== "request_in_progress" || attempt >= 3) return res;
    const wait = Number(res.headers.get("Retry-After")) || 1;
    await new Promise((r) => setTimeout(r, Math.min(wait, 5) * 1000));
  }
}

// confirmBasket is the "Encaisser" button.
export async function confirmBasket() {
  const items = sendable();
  if (!items.length || state.sending) return;
  const b = sealBasket(await store.revocationCursor());
  const body = { scanned_at: b.scannedAt, revocation_cursor: b.cursor, items: items.map((i) => i.input) };
  if (!isOnline()) return queueBasket(items, body, b.key);
  setSending(true);
  const button = $("encaisser");
  button.disabled = true;
  button.textContent = "Envoi…";
  let res;
  try {
    res = await postBasket(body, b.key);
  } catch (e) {
    if (!(e instanceof Offline)) throw e;
    return queueBasket(items, body, b.key);
  } finally {
    setSending(false);
    renderBasket();
  }
  // Held back (429): the basket is kept and sent on its own, as offline.
  if (res.status === 429) return queueBasket(items, body, b.key);
  if (res.status === 201) {
    const r = res.data;
    setLast(r);
    clearBasket();
    return showResult("ok", `Accepté — ${eurosShort(r.total_cents)}`,
      `${plural(r.items.length, "chèque encaissé", "chèques encaissés")} ${at(r.received_at)}.`);
  }
  const result = res.data && res.data.result;
  if (result && Array.isArray(result.items)) {
    const refused = [];
    for (const v of result.items) {
      const item = items[v.index];
      if (item && !v.accepted) {
        verdict(item, v);
        refused.push(item);
      }
    }
    basketChanged();
    renderBasket();
    return showResult("ko", "Refusé", errorMessage(res), refused.map((i) => `Chèque n° ${i.number || "?"} : ${i.message}`));
  }
  showResult("ko", "Refusé", errorMessage(res));
}

function queueBasket(items, body, key) {
  const total = items.reduce((s, i) => s + i.value_cents, 0);
  addToQueue({ key, venue_id: state.device.venue.id, scanned_at: body.scanned_at, revocation_cursor: body.revocation_cursor, total_cents: total,
    items: items.map((i) => ({ input: i.input, number: i.number || null, value_cents: i.value_cents })) });
  clearBasket();
  renderOnline();
  // A voucher typed offline has no known amount: the title gives a total
  // only when it is the whole basket's, never "0 €".
  const unknown = items.some((i) => !i.value_cents);
  showResult("attente", unknown ? "Enregistré hors ligne" : `Enregistré hors ligne — ${eurosShort(total)}`,
    `${vouchersLine(items)}. Le panier sera envoyé dès le retour du réseau ; le résultat s'affichera sur l'écran Scanner.`);
}

let sendingQueue = false;

// sendQueue sends the baskets confirmed offline, oldest first, each under
// its own key and scan time. A basket refused because a voucher was spent
// elsewhere meanwhile is a conflict: the page reports it and sends the rest
// of the basket again, since the volunteer already accepted those vouchers.
export async function sendQueue() {
  if (sendingQueue || !isOnline() || !state.device) return;
  sendingQueue = true;
  try {
    while (state.queue.length) {
      const q = state.queue[0];
      if (q.venue_id !== state.device.venue.id) break; // paired again elsewhere: keep it for its venue
      const res = await postBasket({ scanned_at: q.scanned_at, revocation_cursor: q.revocation_cursor, items: q.items.map((i) => i.input) }, q.key);
      // Not judged (unavailable, unknown key, in progress, held back): try again later.
      if (res.status >= 500 || res.status === 401 || res.status === 409 || res.status === 429) break;
      const when = at(q.scanned_at);
      let entry, rest = null;
      if (res.status === 201) {
        const r = res.data;
        entry = { ok: true, text: `Panier scanné ${when} : accepté — ${eurosShort(r.total_cents)}.`, lines: [] };
        setLast(r);
      } else if (res.data && res.data.result && Array.isArray(res.data.result.items)) {
        const verdicts = res.data.result.items;
        const lines = [];
        const accepted = [];
        for (const v of verdicts) {
          const item = q.items[v.index];
          if (!item) continue;
          if (v.accepted) {
            accepted.push({ ...item, number: v.number || item.number, value_cents: v.value_cents });
            continue;
          }
          // The server says what a conflict means (not paid, what to tell
          // the person): it alone knows the voucher was spent after the scan.
          lines.push(`Chèque n° ${v.number || item.number || "?"} : ${v.message}`);
        }
        if (accepted.length) {
          rest = { ...q, key: q.key + "-r", items: accepted, total_cents: accepted.reduce((s, i) => s + i.value_cents, 0) };
        }
        const others = accepted.length === 1 ? "l'autre chèque est renvoyé seul" : `les ${accepted.length} autres chèques sont renvoyés`;
        entry = { ok: false, lines, text: `Panier scanné ${when} : ${plural(lines.length, "chèque refusé", "chèques refusés")}` +
          (accepted.length ? ` ; ${others}.` : ".") };
      } else {
        entry = { ok: false, text: `Panier scanné ${when} : non enregistré. ${errorMessage(res)}`, lines: [] };
      }
      sentFirst(entry, rest);
      renderOnline();
      renderReport();
      announce(entry.text + " " + entry.lines.join(" "));
    }
  } catch (e) {
    if (!(e instanceof Offline)) throw e;
  } finally {
    sendingQueue = false;
  }
}
