// What the page knows, with one owner: this module. The device, the public
// keys, the basket, the baskets waiting for the network, what became of
// them and the last redemption are each saved on the device (store.js) by
// the function here that changes them, so that a closed tab or a restarted
// phone loses nothing. Other modules read `state` and change it only
// through these functions.

import * as store from "./store.js";

const emptyBasket = () => ({ items: [], key: null, scannedAt: null });

export const state = {
  device: store.load("device"), // {key, prefix, venue: {id, name}, departments, labels: [{department, status, label_expires_on}]}
  keys: store.load("keys"), // GET /api/v1/keys
  syncedAt: store.load("synced_at"),
  basket: store.load("basket", emptyBasket()),
  queue: store.load("queue", []), // baskets confirmed offline, oldest first
  report: store.load("report", []), // what happened to them once sent
  last: store.load("last"), // the last redemption, for undo
  sending: false, // a basket is on its way to the server (not saved)
};

export function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

// ---- The device ----

export function setDevice(device) {
  state.device = device;
  store.save("device", device);
}

export function setKeys(keys) {
  state.keys = keys;
  store.save("keys", keys);
}

export function setSyncedAt(iso) {
  state.syncedAt = iso;
  store.save("synced_at", iso);
}

// forgetDevice drops everything the device kept, once it is unpaired.
export async function forgetDevice() {
  await store.forgetAll();
  Object.assign(state, { device: null, keys: null, syncedAt: null, basket: emptyBasket(), queue: [], report: [], last: null });
}

// ---- The basket ----

export function saveBasket() {
  store.save("basket", state.basket);
}

// basketChanged: another basket, hence another Idempotency-Key.
export function basketChanged() {
  state.basket.key = null;
  state.basket.scannedAt = null;
  saveBasket();
}

export function addToBasket(item) {
  state.basket.items.push(item);
  basketChanged();
}

// removeFromBasket removes an item by its id and returns it.
export function removeFromBasket(id) {
  const item = state.basket.items.find((i) => i.id === id);
  state.basket.items = state.basket.items.filter((i) => i.id !== id);
  basketChanged();
  return item;
}

// updateItem records what is known of an item (its verdict, its value);
// the caller saves the basket once the item is judged.
export function updateItem(item, fields) {
  Object.assign(item, fields);
}

export function newBasket() {
  state.basket = emptyBasket();
  saveBasket();
}

// sendable are the vouchers of the basket that can be sent: all but the refused.
export function sendable() {
  return state.basket.items.filter((i) => i.state !== "refused");
}

// sealBasket gives the basket, once, the key, scan time and revocation
// cursor that every retry of it sends again: the server then answers a
// retry with the first answer, never "already redeemed by you". The cursor
// is the evidence that lets the server believe the scan time of a basket
// sent late (docs/scanner.md).
export function sealBasket(cursor) {
  const b = state.basket;
  if (b.key) return b;
  b.key = newId();
  b.scannedAt = new Date().toISOString();
  b.cursor = cursor;
  saveBasket();
  return b;
}

export function setSending(sending) {
  state.sending = sending;
}

// ---- The baskets waiting for the network ----

export function addToQueue(entry) {
  state.queue.push(entry);
  store.save("queue", state.queue);
}

// sentFirst records what became of the oldest waiting basket (entry, for
// the report) and puts rest, the part of it to send again, first in line.
export function sentFirst(entry, rest) {
  state.queue.shift();
  if (rest) state.queue.unshift(rest);
  state.report.push(entry);
  store.save("queue", state.queue);
  store.save("report", state.report);
}

export function clearReport() {
  state.report = [];
  store.save("report", []);
}

// ---- The last redemption, for undo ----

// setLast keeps an accepted basket's answer (POST /api/v1/redemptions),
// and its receipt among the others. A receipt that cannot be kept (a
// full disk) does not stop the volunteer: the archive of the venue's
// manager holds them all.
export function setLast(r) {
  state.last = { id: r.redemption_id, total_cents: r.total_cents, received_at: r.received_at,
    reversible_until: r.reversible_until, count: r.items.length };
  store.save("last", state.last);
  if (r.receipt) {
    store.saveReceipt({ id: r.redemption_id, receipt: r.receipt, serials: r.items.map((i) => i.serial),
      total_cents: r.total_cents, received_at: r.received_at }).catch(() => {});
  }
}

export function markLastReversed() {
  state.last.reversed = true;
  store.save("last", state.last);
}

// undoable is the last redemption while the server still lets the venue
// undo it (its reversible_until), or null.
export function undoable() {
  const l = state.last;
  return l && !l.reversed && Date.now() < Date.parse(l.reversible_until) ? l : null;
}
