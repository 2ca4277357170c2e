// What the device keeps up to date for the offline check (offline.js):
// the public keys, the venue's départements and labels, and the list of
// spent and voided vouchers, read from the revocation feed page by page.

import * as store from "./store.js";
import { state, setDevice, setKeys, setSyncedAt } from "./state.js";
import { Offline, isOnline, request } from "./network.js";
import { renderDevice, renderHeader } from "./views.js";
import { current } from "./screens.js";

export async function refreshKeys() {
  const res = await request("GET", "/api/v1/keys", { auth: false });
  if (res.status === 200 && res.data && Array.isArray(res.data.keys)) setKeys(res.data);
}

async function refreshVenue() {
  const res = await request("GET", `/api/v1/venues/${state.device.venue.id}`);
  if (res.status !== 200 || !state.device) return; // unpaired meanwhile: nothing to update
  const v = res.data;
  setDevice({ ...state.device, venue: { id: v.id, name: v.name }, departments: v.departments || [], labels: v.labels || [] });
  renderHeader();
}

async function refreshRevocations() {
  for (let page = 0; page < 50; page++) {
    const since = await store.revocationCursor();
    const res = await request("GET", `/api/v1/revocations?since=${since}&limit=1000`);
    if (res.status !== 200) return;
    await store.applyRevocations(res.data);
    if (res.data.revocations.length === 0 || res.data.next === since) return;
  }
}

export async function refreshAll() {
  if (!state.device || !isOnline()) return;
  try {
    await refreshKeys();
    await refreshVenue();
    if (!state.device) return;
    await refreshRevocations();
    setSyncedAt(new Date().toISOString());
    if (current() === "appareil") renderDevice();
  } catch (e) {
    if (!(e instanceof Offline)) throw e;
  }
}
