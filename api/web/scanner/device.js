// The device: paired with a venue by a one-time code (scanned or pasted),
// its key revoked by the server, or unpaired here.

import * as codec from "./codec.js";
import { signal } from "./camera.js";
import { state, forgetDevice, setDevice } from "./state.js";
import { Offline, errorMessage, request } from "./network.js";
import { refreshAll, refreshKeys } from "./sync.js";
import { renderHeader } from "./views.js";
import { $, announce, show } from "./screens.js";
import { plural } from "./format.js";

const usedPairingCodes = new Set(); // one-time codes this page has paired with
let pairing = false;

// pairScanned takes a code read by the pairing camera.
export function pairScanned(text) {
  // The code this device was paired with, still in front of the camera
  // after unpairing, is not sent again only to be refused as used.
  if (usedPairingCodes.has(text.replace(/\s+/g, ""))) return;
  signal(true);
  pair(text);
}

export async function pair(text) {
  if (pairing) return;
  const code = text.replace(/\s+/g, "");
  const say = (m) => { $("message-association").textContent = m; };
  let d;
  try {
    d = codec.decode(code);
  } catch (e) {
    say("Ce n'est pas un code d'association : vérifiez que le code est complet, ou demandez-en un nouveau.");
    return;
  }
  if (d.type !== codec.PAIRING) {
    say("Ce QR code n'est pas un code d'association : scannez celui que le département vous a donné.");
    return;
  }
  pairing = true;
  say("Association en cours…");
  try {
    // The code is checked against the public keys before it is sent: any
    // other QR code never leaves the device.
    await refreshKeys();
    try {
      await codec.verify(code, state.keys);
    } catch (e) {
      say("Ce code d'association n'est pas authentique : demandez-en un nouveau au département.");
      return;
    }
    const res = await request("POST", "/api/v1/pairing", { body: { code }, auth: false });
    if (res.status !== 201) {
      say(errorMessage(res));
      return;
    }
    usedPairingCodes.add(code);
    setDevice({ key: res.data.key, prefix: res.data.prefix, venue: res.data.venue, departments: [], labels: [] });
    $("code-association").value = "";
    say("");
    renderHeader();
    show("scanner");
    announce(`Appareil associé à ${state.device.venue.name}. Vous pouvez scanner les chèques.`);
    await refreshAll();
  } catch (e) {
    if (!(e instanceof Offline)) throw e;
    say("Pas de réseau : l'association demande une connexion. Réessayez une fois connecté.");
  } finally {
    pairing = false;
  }
}

// keyRevoked: the server no longer knows this device's key (unpaired
// elsewhere, revoked by an administrator). Baskets not yet sent are kept:
// once the device is paired again with the same venue, they are sent.
export function keyRevoked() {
  setDevice(null);
  renderHeader();
  show("association");
  $("message-association").textContent = "Cet appareil a été dissocié du lieu : associez-le à nouveau avec un nouveau code.";
}

export async function unpair() {
  const say = (m) => { $("message-appareil").textContent = m; };
  if (state.queue.length) {
    say(`${plural(state.queue.length, "panier enregistré", "paniers enregistrés")} hors ligne n'${state.queue.length > 1 ? "ont" : "a"} pas encore été envoyé${state.queue.length > 1 ? "s" : ""} : reconnectez l'appareil au réseau avant de le dissocier.`);
    return;
  }
  let res;
  try {
    res = await request("DELETE", "/api/v1/apikey");
  } catch (e) {
    if (!(e instanceof Offline)) throw e;
    say("Pas de réseau : la dissociation demande une connexion, pour que la clé de l'appareil ne serve plus.");
    return;
  }
  if (res.status !== 204 && res.status !== 401) {
    say(errorMessage(res));
    return;
  }
  await forgetDevice();
  renderHeader();
  $("confirmer-dissociation").hidden = true;
  say("");
  show("association");
  $("message-association").textContent = "Appareil dissocié : sa clé ne fonctionne plus. Pour l'utiliser à nouveau, associez-le avec un nouveau code.";
  refreshKeys().catch(() => {});
}
