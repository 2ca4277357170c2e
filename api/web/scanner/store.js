// What the scanner keeps on the device. Small things (the device's key, the
// public keys, the basket, the baskets waiting for the network) live in
// localStorage, which survives a closed tab; the list of spent and voided
// vouchers can reach hundreds of thousands of serials, so it lives in
// IndexedDB with the cursor of the revocation feed, written in the same
// transaction so that the two never disagree.

const PREFIX = "passnum.scanner.";

export function load(name, fallback = null) {
  try {
    const s = localStorage.getItem(PREFIX + name);
    return s === null ? fallback : JSON.parse(s);
  } catch (e) {
    return fallback;
  }
}

export function save(name, value) {
  if (value === null || value === undefined) localStorage.removeItem(PREFIX + name);
  else localStorage.setItem(PREFIX + name, JSON.stringify(value));
}

export function forgetAll() {
  for (const k of Object.keys(localStorage)) {
    if (k.startsWith(PREFIX)) localStorage.removeItem(k);
  }
  return new Promise((resolve) => {
    dbPromise = null;
    const req = indexedDB.deleteDatabase("passnum-scanner");
    req.onsuccess = req.onerror = req.onblocked = () => resolve();
  });
}

let dbPromise = null;

function db() {
  dbPromise = dbPromise || new Promise((resolve, reject) => {
    const req = indexedDB.open("passnum-scanner", 3);
    req.onupgradeneeded = (event) => {
      if (event.oldVersion < 1) {
        req.result.createObjectStore("revocations"); // serial -> "redeemed" | "void"
        req.result.createObjectStore("meta"); // "cursor" -> next `since`
      } else if (event.oldVersion < 2) {
        // A version 1 list came from a feed without single-voucher voids:
        // its cursor is past them, so read the whole feed again.
        req.transaction.objectStore("revocations").clear();
        req.transaction.objectStore("meta").clear();
      }
      if (event.oldVersion < 3) {
        // redemption id -> {id, receipt, serials, total_cents, received_at}
        req.result.createObjectStore("receipts");
      }
    };
    req.onsuccess = () => {
      req.result.onversionchange = () => { req.result.close(); dbPromise = null; };
      resolve(req.result);
    };
    req.onerror = () => reject(req.error);
  });
  return dbPromise;
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = tx.onabort = () => reject(tx.error);
  });
}

function get(storeName, key) {
  return db().then((d) => new Promise((resolve, reject) => {
    const req = d.transaction(storeName).objectStore(storeName).get(key);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  }));
}

// revocationCursor is the `since` of the next GET /api/v1/revocations.
export async function revocationCursor() {
  return (await get("meta", "cursor")) || 0;
}

// applyRevocations applies one page of the feed in order: a voucher active
// again (a reversal) leaves the list.
export async function applyRevocations(page) {
  const d = await db();
  const tx = d.transaction(["revocations", "meta"], "readwrite");
  const list = tx.objectStore("revocations");
  for (const r of page.revocations) {
    if (r.status === "active") list.delete(r.serial);
    else list.put(r.status, r.serial);
  }
  tx.objectStore("meta").put(page.next, "cursor");
  await done(tx);
}

// revocation says what the last list received knows of a serial:
// "redeemed", "void", or undefined.
export function revocation(serial) {
  return get("revocations", serial);
}

export function countRevocations() {
  return db().then((d) => new Promise((resolve, reject) => {
    const req = d.transaction("revocations").objectStore("revocations").count();
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  }));
}

// saveReceipt keeps an accepted redemption's receipt (docs/scanner.md,
// "Receipts"): the venue's proof of what it is owed, in IndexedDB, which
// holds a year of them without the size limits of localStorage.
export async function saveReceipt(r) {
  const tx = (await db()).transaction("receipts", "readwrite");
  tx.objectStore("receipts").put(r, r.id);
  await done(tx);
}

export function allReceipts() {
  return db().then((d) => new Promise((resolve, reject) => {
    const req = d.transaction("receipts").objectStore("receipts").getAll();
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  }));
}
