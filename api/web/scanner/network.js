// The API on this origin, and whether it can be reached. The page is
// offline when the browser says so or when a request gets no answer; any
// HTTP answer, even an error, proves the network is there. While offline,
// GET /healthz is asked every few seconds.

import { state } from "./state.js";

const PROBE_EVERY_MS = 5 * 1000;
const REQUEST_TIMEOUT_MS = 10 * 1000;

export class Offline extends Error {}

let online = navigator.onLine;
let handlers = { changed() {}, revoked() {} };

// onNetwork sets what the page does when the network comes or goes
// (changed(online)) and when the server no longer knows the device's key
// (revoked()).
export function onNetwork(h) {
  handlers = h;
}

export function isOnline() {
  return online;
}

export function setOnline(now) {
  if (now === online) return;
  online = now;
  handlers.changed(now);
}

// RELEASE is the release of the scanner's files: the hash in their URL
// (/scanner/h/HASH/network.js, api/static), "dev" when served unhashed.
const RELEASE = (/\/h\/([0-9a-z]+)\//.exec(import.meta.url) || [null, "dev"])[1];

// request calls the API. A failed fetch (no network, server unreachable,
// timeout) throws Offline and switches the page offline.
export async function request(method, path, { body, idempotencyKey, auth = true } = {}) {
  const headers = { Accept: "application/json" };
  if (auth && state.device) {
    headers.Authorization = "Bearer " + state.device.key;
    // The venue's manager sees which release each device runs and the
    // baskets it holds offline (the page /appareils).
    headers["Passnum-Scanner-Version"] = RELEASE;
    headers["Passnum-Scanner-Pending"] = String(state.queue.length);
  }
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
  let res;
  try {
    res = await fetch(path, { method, headers, cache: "no-store", signal: abort.signal,
      body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    setOnline(false);
    throw new Offline();
  } finally {
    clearTimeout(timer);
  }
  let data = null;
  if (res.status !== 204) {
    try { data = await res.json(); } catch (e) { data = null; }
  }
  setOnline(true);
  if (res.status === 401 && auth && state.device) handlers.revoked();
  return { status: res.status, data, headers: res.headers };
}

export function errorMessage(res) {
  return (res.data && res.data.error && res.data.error.message) ||
    `Le serveur a répondu par une erreur (${res.status}). Réessayez dans un moment.`;
}

async function probe() {
  if (!online && navigator.onLine) {
    try {
      const res = await fetch("/healthz", { cache: "no-store" });
      if (res.ok) setOnline(true);
    } catch (e) {
      // still offline
    }
  }
  setTimeout(probe, PROBE_EVERY_MS);
}

export function startProbing() {
  setTimeout(probe, PROBE_EVERY_MS);
}

// probeNow asks at once, when the browser says the network is back.
export async function probeNow() {
  try {
    const res = await fetch("/healthz", { cache: "no-store" });
    if (res.ok) setOnline(true);
  } catch (e) {
    setOnline(false);
  }
}
