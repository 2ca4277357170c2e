// The venue scanner (docs/scanner.md): pair the device, scan or type the
// vouchers of a session into a basket, redeem it, undo a mistake, see the
// day and the month. Every verdict comes from the API, in its own French
// words; without network the page judges what a device can (signature,
// dates, département, the last list of spent vouchers), keeps the baskets
// and sends them when the network returns.

import * as codec from "./codec.js";
import * as store from "./store.js";
import { Camera, signal, unlockSound } from "./camera.js";

const $ = (id) => document.getElementById(id);

// The server's default reversal window: the page offers to undo within it
// and the server, whose window may differ, has the last word.
const REVERSAL_WINDOW_MS = 30 * 60 * 1000;
const REFRESH_EVERY_MS = 60 * 1000; // keys, venue, revocations, queue
const PROBE_EVERY_MS = 5 * 1000; // while offline: is the server back?
const REQUEST_TIMEOUT_MS = 10 * 1000;
const SAME_CODE_MS = 2500; // a code still in view is not read again

const state = {
  device: store.load("device"), // {key, prefix, venue: {id, name}, departments, labels: [{department, status, label_expires_on}]}
  keys: store.load("keys"), // GET /api/v1/keys
  syncedAt: store.load("synced_at"),
  basket: store.load("basket", { items: [], key: null, scannedAt: null }),
  queue: store.load("queue", []), // baskets confirmed offline, oldest first
  report: store.load("report", []), // what happened to them once sent
  last: store.load("last"), // the last redemption, for undo
  online: navigator.onLine,
  screen: null,
  lastRead: { code: null, at: 0 },
  cameraWanted: true,
  pairing: false,
  sending: false,
};

// ---- Network ----

class Offline extends Error {}

// request calls the API on this origin. A failed fetch (no network, server
// unreachable, timeout) throws Offline and switches the page offline; any
// HTTP answer, even an error, proves the network is there.
async function request(method, path, { body, idempotencyKey, auth = true } = {}) {
  const headers = { Accept: "application/json" };
  if (auth && state.device) headers.Authorization = "Bearer " + state.device.key;
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
  if (res.status === 401 && auth && state.device) keyRevoked();
  return { status: res.status, data, headers: res.headers };
}

function errorMessage(res) {
  return (res.data && res.data.error && res.data.error.message) ||
    `Le serveur a répondu par une erreur (${res.status}). Réessayez dans un moment.`;
}

function setOnline(online) {
  if (online === state.online) return;
  state.online = online;
  renderOnline();
  if (online) backOnline();
}

async function backOnline() {
  announce("Réseau rétabli.");
  await sendQueue();
  await recheckBasket();
  await refreshAll();
  if (state.screen === "journee") loadToday();
}

async function probe() {
  if (!state.online && navigator.onLine) {
    try {
      const res = await fetch("/healthz", { cache: "no-store" });
      if (res.ok) setOnline(true);
    } catch (e) {
      // still offline
    }
  }
  setTimeout(probe, PROBE_EVERY_MS);
}

// ---- What the device keeps up to date for offline checks ----

async function refreshKeys() {
  const res = await request("GET", "/api/v1/keys", { auth: false });
  if (res.status === 200 && res.data && Array.isArray(res.data.keys)) {
    state.keys = res.data;
    store.save("keys", state.keys);
  }
}

async function refreshVenue() {
  const res = await request("GET", `/api/v1/venues/${state.device.venue.id}`);
  if (res.status !== 200) return;
  const v = res.data;
  Object.assign(state.device, { venue: { id: v.id, name: v.name }, departments: v.departments || [], labels: v.labels || [] });
  store.save("device", state.device);
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

async function refreshAll() {
  if (!state.device || !state.online) return;
  try {
    await refreshKeys();
    await refreshVenue();
    if (!state.device) return;
    await refreshRevocations();
    state.syncedAt = new Date().toISOString();
    store.save("synced_at", state.syncedAt);
    if (state.screen === "appareil") renderDevice();
  } catch (e) {
    if (!(e instanceof Offline)) throw e;
  }
}

// ---- Formatting, in French ----

const NBSP = "\u00a0";

function euros(cents) {
  const s = (cents / 100).toFixed(2).replace(".", ",").replace(/\B(?=(\d{3})+(?!\d))/g, NBSP);
  return s + NBSP + "€";
}

// eurosShort drops the cents of a whole amount: "30 €".
function eurosShort(cents) {
  return cents % 100 === 0 ? `${cents / 100}${NBSP}€` : euros(cents);
}

const timeFormat = new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", day: "2-digit", month: "2-digit" });
const monthFormat = new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", month: "long", year: "numeric" });

function at(iso) {
  const d = new Date(iso);
  return `le ${dayFormat.format(d)} à ${timeFormat.format(d)}`;
}

function plural(n, one, many) {
  return `${n} ${n > 1 ? many : one}`;
}

// ---- Screens ----

const SCREENS = ["chargement", "association", "scanner", "resultat", "annulation", "journee", "appareil"];

function show(name, { focus = true } = {}) {
  state.screen = name;
  state.lastRead = { code: null, at: 0 }; // a code still in view counts again on another screen
  for (const s of SCREENS) $("ecran-" + s).hidden = s !== name;
  $("navigation").hidden = !state.device;
  for (const b of document.querySelectorAll("#navigation button")) {
    if (b.dataset.ecran === name) b.setAttribute("aria-current", "page");
    else b.removeAttribute("aria-current");
  }
  if (name === "association") pairingCamera.start(); else pairingCamera.stop();
  if (name === "scanner" && state.cameraWanted) scanCamera.start(); else scanCamera.stop();
  if (name === "scanner") { renderBasket(); renderReport(); renderLast(); }
  if (name === "journee") loadToday();
  if (name === "appareil") renderDevice();
  if (focus) $("ecran-" + name).querySelector("h1").focus();
}

let announced = 0;

// announce speaks to screen readers through the assertive live region.
function announce(text) {
  const el = $("annonce");
  el.textContent = "";
  const n = ++announced;
  setTimeout(() => { if (n === announced) el.textContent = text; }, 50);
}

function renderHeader() {
  $("nom-lieu").textContent = state.device ? state.device.venue.name : "";
}

function renderOnline() {
  $("bandeau-hors-ligne").hidden = state.online;
  const n = state.queue.length;
  $("attente").textContent = n ? `${plural(n, "panier attend", "paniers attendent")} d'être envoyé${n > 1 ? "s" : ""}.` : "";
}

// ---- Cameras ----

const CAMERA_TEXT = {
  starting: "Démarrage de la caméra…",
  stopped: "Caméra arrêtée.",
  NotAllowedError: "La caméra est refusée : autorisez-la dans les réglages du navigateur.",
  NotFoundError: "Aucune caméra trouvée sur cet appareil.",
  OverconstrainedError: "Aucune caméra utilisable sur cet appareil.",
  NotReadableError: "La caméra est occupée par une autre application : fermez-la.",
  unsupported: "Ce navigateur ne donne pas accès à la caméra ici (la page doit être ouverte en https).",
};

// cameraState shows what a camera does; aim says what to point it at, and
// instead what to do when it cannot work.
function cameraState(box, aim, instead) {
  return (s) => {
    const trouble = !["running", "starting", "stopped"].includes(s);
    box.querySelector(".etat-camera").textContent = s === "running" ? aim
      : (CAMERA_TEXT[s] || "La caméra ne démarre pas.") + (trouble ? " " + instead : "");
    box.classList.toggle("active", s === "running");
    const button = box.querySelector("button");
    if (button) button.textContent = s === "running" || s === "starting" ? "Arrêter la caméra" : "Démarrer la caméra";
    if (box.id === "camera-scanner" && trouble) $("saisie").open = true;
  };
}

const scanCamera = new Camera($("camera-scanner").querySelector("video"), onCode,
  cameraState($("camera-scanner"), "Visez le QR code du chèque.", "Saisissez le chèque à la main."));
const pairingCamera = new Camera($("camera-association").querySelector("video"), onCode,
  cameraState($("camera-association"), "Visez le QR code d'association.", "Collez le code ci-dessous."));

function onCode(text) {
  const now = Date.now();
  if (text === state.lastRead.code && now - state.lastRead.at < SAME_CODE_MS) {
    state.lastRead.at = now; // still in view: read once
    return;
  }
  state.lastRead = { code: text, at: now };
  if (state.screen === "association") {
    // The code this device was paired with, still in front of the camera
    // after unpairing, is not sent again only to be refused as used.
    if (usedPairingCodes.has(text.replace(/\s+/g, ""))) return;
    signal(true);
    pair(text);
  } else if (state.screen === "scanner") {
    scanned(text);
  }
}

// ---- Pairing ----

const usedPairingCodes = new Set(); // one-time codes this page has paired with

async function pair(text) {
  if (state.pairing) return;
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
  state.pairing = true;
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
    state.device = { key: res.data.key, prefix: res.data.prefix, venue: res.data.venue, departments: [], labels: [] };
    store.save("device", state.device);
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
    state.pairing = false;
  }
}

// keyRevoked: the server no longer knows this device's key (unpaired
// elsewhere, revoked by an administrator). Baskets not yet sent are kept:
// once the device is paired again with the same venue, they are sent.
function keyRevoked() {
  state.device = null;
  store.save("device", null);
  renderHeader();
  show("association");
  $("message-association").textContent = "La clé de cet appareil a été révoquée : associez-le à nouveau avec un nouveau code.";
}

async function unpair() {
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
  await store.forgetAll();
  Object.assign(state, { device: null, keys: null, syncedAt: null, basket: { items: [], key: null, scannedAt: null },
    queue: [], report: [], last: null });
  renderHeader();
  $("confirmer-dissociation").hidden = true;
  say("");
  show("association");
  $("message-association").textContent = "Appareil dissocié : sa clé ne fonctionne plus. Pour l'utiliser à nouveau, associez-le avec un nouveau code.";
  refreshKeys().catch(() => {});
}

// ---- The basket ----

function saveBasket() {
  store.save("basket", state.basket);
}

function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

const NOT_A_VOUCHER = {
  [codec.ACTIVATION]: "C'est le QR code d'activation du chéquier (sur sa couverture) : scannez les chèques à l'intérieur.",
  [codec.PAIRING]: "C'est un code d'association d'appareil, pas un chèque.",
};

function scanned(code) {
  let d;
  try {
    d = codec.decode(code);
  } catch (e) {
    d = null;
  }
  if (!d || d.type !== codec.VOUCHER) {
    signal(false);
    const m = (d && NOT_A_VOUCHER[d.type]) || "Ce QR code n'est pas un chèque Pass numérique.";
    cameraSays(m);
    announce(m);
    return;
  }
  if (state.basket.items.some((i) => i.code === code)) {
    cameraSays("Ce chèque est déjà dans le panier.");
    return;
  }
  signal(true);
  addItem({ code, input: { code } });
}

// cameraSays shows a remark under the camera for a few seconds, then the
// usual "aim at the QR code".
let remark = 0;

function cameraSays(text) {
  const line = $("camera-scanner").querySelector(".etat-camera");
  line.textContent = text;
  clearTimeout(remark);
  remark = setTimeout(() => {
    if (scanCamera.running && line.textContent === text) line.textContent = "Visez le QR code du chèque.";
  }, 4000);
}

function addItem(item) {
  Object.assign(item, { id: newId(), state: "checking", message: "Vérification…", value_cents: 0 });
  state.basket.items.push(item);
  basketChanged();
  check(item);
}

function basketChanged() {
  state.basket.key = null; // another basket: another Idempotency-Key
  state.basket.scannedAt = null;
  saveBasket();
  renderBasket();
}

async function check(item) {
  if (state.online) {
    try {
      const res = await request("POST", "/api/v1/vouchers/check", { body: item.input });
      // Held back (429) or unavailable (5xx), the server has not judged the
      // voucher: it is checked on the device, as offline; the basket's
      // redemption judges it for good either way.
      if (res.status !== 429 && res.status < 500) {
        if (res.status === 200) {
          verdict(item, res.data);
        } else {
          Object.assign(item, { state: "refused", message: errorMessage(res) });
        }
        return checked(item);
      }
    } catch (e) {
      if (!(e instanceof Offline)) throw e;
    }
  }
  await checkOffline(item);
  checked(item);
}

function verdict(item, v) {
  Object.assign(item, { state: v.accepted ? "ok" : "refused", message: v.message, reason: v.reason || null,
    value_cents: v.value_cents, number: v.number || item.number, serial: v.serial || item.serial });
}

function checked(item) {
  if (!state.basket.items.includes(item)) return; // removed meanwhile
  saveBasket();
  renderBasket();
  if (item.state === "refused") signal(false);
  announce(`Chèque ${item.number || ""} : ${item.message}`);
}

// checkOffline judges a voucher as far as the device can: its signature
// against the public keys, its dates in Paris, the venue's départements and
// label, and the last list of spent and voided vouchers. A typed number is
// only checked against the serials of the revoked keys: its verification
// code's secret stays on the server. The server judges again when the
// basket is sent.
async function checkOffline(item) {
  const refuse = (message) => Object.assign(item, { state: "refused", message });
  if (!item.code) {
    if (codec.revokedKeyOf(item.number, state.keys) !== null) return refuse(OFFLINE_REFUSAL.revoked_key);
    return Object.assign(item, { state: "offline-manual",
      message: "Saisi hors ligne : le code de vérification et le montant seront contrôlés au retour du réseau." });
  }
  let r;
  try {
    r = await codec.verify(item.code, state.keys);
  } catch (e) {
    return refuse(OFFLINE_REFUSAL[e.reason] || "Ce QR code n'est pas un chèque Pass numérique.");
  }
  const v = r.fields;
  Object.assign(item, { number: v.number, serial: v.serial, value_cents: v.valueCents });
  const today = codec.parisDay(new Date());
  const dev = state.device;
  if (today > v.validUntil) return refuse(`Ce chèque n'est plus valable depuis le ${codec.frenchDay(v.validUntil)}.`);
  if (today < v.validFrom) return refuse(`Ce chèque ne sera valable qu'à partir du ${codec.frenchDay(v.validFrom)}.`);
  // The label of the voucher's département, as the server judges it: each
  // département suspends or lets lapse its own label. A device paired
  // before labels were per département knows its départements only until
  // its next refresh: it then judges by the server's answer.
  const label = (dev.labels || []).find((l) => l.department === v.department);
  if (!label && !dev.departments.includes(v.department)) {
    return refuse(`Ce chèque est réservé au département ${v.department}, pour lequel votre structure n'est pas labellisée.`);
  }
  if (label && label.status === "suspended") {
    return refuse(`Votre structure est suspendue pour les chèques du département ${v.department} : elle ne peut pas les encaisser pour le moment. Contactez le département.`);
  }
  const labelEnd = label && label.label_expires_on ? Date.parse(label.label_expires_on) / 86400000 : Infinity;
  if (label && (label.status !== "labelled" || today > labelEnd)) {
    return refuse(`Votre structure n'est pas labellisée pour les chèques du département ${v.department} : elle ne peut pas les encaisser. Contactez le département.`);
  }
  const known = await store.revocation(v.serial);
  if (known === "redeemed") return refuse("D'après la dernière liste reçue, ce chèque a déjà été utilisé. Ne l'acceptez pas.");
  if (known === "void") return refuse("Ce chèque a été annulé (perdu, volé, code divulgué ou remplacé). Ne l'acceptez pas.");
  Object.assign(item, { state: "offline-ok",
    message: `Signature vérifiée sur l'appareil : ${euros(v.valueCents)}. Confirmation au retour du réseau.` });
}

const OFFLINE_REFUSAL = {
  bad_signature: "Ce chèque n'est pas authentique : il a été modifié ou contrefait. Ne l'acceptez pas.",
  unknown_key: "Ce chèque vient d'un autre programme ou d'une clé inconnue. Ne l'acceptez pas.",
  revoked_key: "Ce chèque a été émis avec une clé retirée pour raison de sécurité. Il doit être remplacé par le département.",
  invalid_payload: "Ce QR code n'est pas un chèque Pass numérique valable.",
};

// recheckBasket asks the server about what was judged offline, once back.
async function recheckBasket() {
  for (const item of state.basket.items.filter((i) => i.state.startsWith("offline"))) {
    item.state = "checking";
    await check(item);
    if (!state.online) return;
  }
}

function removeItem(id) {
  const item = state.basket.items.find((i) => i.id === id);
  state.basket.items = state.basket.items.filter((i) => i.id !== id);
  state.lastRead = { code: null, at: 0 };
  basketChanged();
  announce(`Chèque ${item && item.number ? item.number + " " : ""}retiré du panier.`);
  $("titre-panier").focus();
}

function sendable() {
  return state.basket.items.filter((i) => i.state !== "refused");
}

const STATE_LABEL = { ok: "Valable", refused: "Refusé", checking: "Vérification", "offline-ok": "Vérifié hors ligne", "offline-manual": "À confirmer" };

function renderBasket() {
  const items = state.basket.items;
  const list = $("panier");
  list.replaceChildren(...items.map((item) => {
    const li = document.createElement("li");
    li.className = "article " + item.state;
    const amount = document.createElement("p");
    amount.className = "montant";
    amount.textContent = item.value_cents ? euros(item.value_cents) : "…";
    const label = document.createElement("p");
    label.className = "etiquette";
    label.textContent = STATE_LABEL[item.state];
    const number = document.createElement("p");
    number.className = "numero";
    number.textContent = item.number ? `Chèque n° ${item.number}${item.code ? "" : " (saisi)"}` : "Chèque";
    const message = document.createElement("p");
    message.className = "raison";
    message.textContent = item.message;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "bouton petit";
    remove.textContent = "Retirer";
    remove.setAttribute("aria-label", `Retirer le chèque ${item.number || ""} du panier`);
    remove.addEventListener("click", () => removeItem(item.id));
    li.append(label, amount, number, message, remove);
    return li;
  }));
  const n = items.length;
  $("titre-panier").textContent = n ? `Panier : ${plural(n, "chèque", "chèques")}` : "Panier";
  $("panier-vide").hidden = n > 0;
  $("vider").hidden = n === 0;
  $("actions-panier").hidden = sendable().length === 0; // nothing to send: no button in the way
  renderVerdict();
  const go = sendable();
  const total = go.reduce((s, i) => s + i.value_cents, 0);
  const unknown = go.filter((i) => i.state === "offline-manual").length;
  const button = $("encaisser");
  button.disabled = go.length === 0 || items.some((i) => i.state === "checking") || state.sending;
  button.textContent = go.length === 0 ? "Encaisser" :
    `Encaisser ${plural(go.length, "chèque", "chèques")} — ${eurosShort(total)}${unknown ? " + " + plural(unknown, "à confirmer", "à confirmer") : ""}`;
}

// renderVerdict shows the last voucher of the basket under the camera.
function renderVerdict() {
  const box = $("verdict");
  const item = state.basket.items[state.basket.items.length - 1];
  box.hidden = !item;
  if (!item) return;
  box.className = "article " + item.state;
  box.querySelector(".etiquette").textContent = `${STATE_LABEL[item.state]} · n° ${item.number || "?"}`;
  box.querySelector(".montant").textContent = item.value_cents ? euros(item.value_cents) : "…";
  box.querySelector(".raison").textContent = item.message;
}

// ---- Redeeming ----

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

async function confirmBasket() {
  const items = sendable();
  if (!items.length || state.sending) return;
  const b = state.basket;
  const cursor = await store.revocationCursor();
  if (!b.key) {
    // One key per basket, kept (with the scan time and the revocation
    // cursor, so that the body is the same) for every retry of this basket:
    // the server then answers a retry with the first answer, never
    // "already redeemed by you". The cursor is the evidence that lets the
    // server believe the scan time of a basket sent late (docs/scanner.md).
    b.key = newId();
    b.scannedAt = new Date().toISOString();
    b.cursor = cursor;
    saveBasket();
  }
  const body = { scanned_at: b.scannedAt, revocation_cursor: b.cursor, items: items.map((i) => i.input) };
  if (!state.online) return queueBasket(items, body, b.key);
  state.sending = true;
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
    state.sending = false;
    renderBasket();
  }
  // Held back (429): the basket is kept and sent on its own, as offline.
  if (res.status === 429) return queueBasket(items, body, b.key);
  if (res.status === 201) {
    const r = res.data;
    state.last = { id: r.redemption_id, total_cents: r.total_cents, received_at: r.received_at, count: r.items.length };
    store.save("last", state.last);
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
    return showResult("ko", "Refusé", errorMessage(res), refused.map((i) => `Chèque n° ${i.number || "?"} : ${i.message}`));
  }
  showResult("ko", "Refusé", errorMessage(res));
}

function clearBasket() {
  state.basket = { items: [], key: null, scannedAt: null };
  state.lastRead = { code: null, at: 0 };
  saveBasket();
}

function queueBasket(items, body, key) {
  const total = items.reduce((s, i) => s + i.value_cents, 0);
  state.queue.push({ key, venue_id: state.device.venue.id, scanned_at: body.scanned_at, revocation_cursor: body.revocation_cursor, total_cents: total,
    items: items.map((i) => ({ input: i.input, number: i.number || null, value_cents: i.value_cents })) });
  store.save("queue", state.queue);
  clearBasket();
  renderOnline();
  showResult("attente", `Enregistré hors ligne — ${eurosShort(total)}`,
    `${plural(items.length, "chèque", "chèques")}. Le panier sera envoyé dès le retour du réseau ; le résultat s'affichera sur l'écran Scanner.`);
}

// sendQueue sends the baskets confirmed offline, oldest first, each under
// its own key and scan time. A basket refused because a voucher was spent
// elsewhere meanwhile is a conflict: the page reports it and sends the rest
// of the basket again, since the volunteer already accepted those vouchers.
async function sendQueue() {
  if (state.sendingQueue || !state.online || !state.device) return;
  state.sendingQueue = true;
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
        state.last = { id: r.redemption_id, total_cents: r.total_cents, received_at: r.received_at, count: r.items.length };
        store.save("last", state.last);
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
          const conflict = v.reason === "already_redeemed" && v.by_this_venue === false;
          lines.push(`Chèque n° ${v.number || item.number || "?"} : ` + (conflict
            ? `déjà utilisé ailleurs pendant que vous étiez hors ligne${v.redeemed_at ? " (" + at(v.redeemed_at) + ")" : ""}. Il n'est pas encaissé par votre structure.`
            : v.message));
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
      state.queue.shift();
      if (rest) state.queue.unshift(rest);
      state.report.push(entry);
      store.save("queue", state.queue);
      store.save("report", state.report);
      renderOnline();
      renderReport();
      announce(entry.text + " " + entry.lines.join(" "));
    }
  } catch (e) {
    if (!(e instanceof Offline)) throw e;
  } finally {
    state.sendingQueue = false;
  }
}

function renderReport() {
  const box = $("rapport-envoi");
  box.hidden = state.report.length === 0;
  $("liste-rapport").replaceChildren(...state.report.map((entry) => {
    const li = document.createElement("li");
    li.className = "article " + (entry.ok ? "ok" : "refused");
    const p = document.createElement("p");
    p.textContent = entry.text;
    li.append(p);
    for (const line of entry.lines) {
      const q = document.createElement("p");
      q.className = "raison";
      q.textContent = line;
      li.append(q);
    }
    return li;
  }));
}

function showResult(kind, title, detail, lines = []) {
  const screen = $("ecran-resultat");
  screen.className = "ecran resultat " + kind;
  $("titre-resultat").textContent = title;
  $("detail-resultat").textContent = detail;
  $("liste-resultat").replaceChildren(...lines.map((l) => {
    const li = document.createElement("li");
    li.textContent = l;
    return li;
  }));
  $("nouveau-panier").hidden = kind === "ko";
  $("retour-panier").hidden = kind !== "ko";
  $("annuler-resultat").hidden = kind !== "ok";
  show("resultat");
  announce(`${title}. ${detail} ${lines.join(" ")}`);
}

// ---- Undo ----

function undoable() {
  const l = state.last;
  return l && !l.reversed && Date.now() - Date.parse(l.received_at) < REVERSAL_WINDOW_MS ? l : null;
}

function renderLast() {
  const l = undoable();
  $("dernier").hidden = !l;
  if (l) {
    $("texte-dernier").textContent = `Dernier encaissement : ${euros(l.total_cents)} (${plural(l.count, "chèque", "chèques")}) ${at(l.received_at)}.`;
  }
}

function startUndo() {
  const l = undoable();
  if (!l) return;
  $("texte-dernier").textContent = "";
  $("texte-annulation").textContent = `Encaissement de ${euros(l.total_cents)} (${plural(l.count, "chèque", "chèques")}) ${at(l.received_at)}. Les chèques pourront être utilisés à nouveau.`;
  $("form-annulation").reset();
  $("message-annulation").textContent = "";
  show("annulation");
}

async function undo(event) {
  event.preventDefault();
  const l = undoable();
  const say = (m) => { $("message-annulation").textContent = m; };
  const reason = new FormData($("form-annulation")).get("motif");
  if (!reason) return say("Choisissez pourquoi vous annulez cet encaissement.");
  if (!l) return say("Le délai pour annuler cet encaissement est passé : contactez le département.");
  let res;
  try {
    res = await request("POST", `/api/v1/redemptions/${l.id}/reversal`, { body: { reason } });
  } catch (e) {
    if (!(e instanceof Offline)) throw e;
    return say("Pas de réseau : l'annulation demande une connexion. Réessayez une fois connecté.");
  }
  if (res.status !== 200) {
    if (res.status === 409) { l.reversed = true; store.save("last", l); }
    return say(errorMessage(res));
  }
  l.reversed = true;
  store.save("last", l);
  showResult("annule", "Encaissement annulé", `${euros(l.total_cents)} ne seront pas remboursés ; les chèques peuvent être utilisés à nouveau.`);
}

// ---- The day and the month ----

async function loadToday() {
  const total = $("total-journee"), list = $("liste-journee"), month = $("total-mois");
  const waiting = $("bloc-attente");
  waiting.hidden = state.queue.length === 0;
  $("liste-attente").replaceChildren(...state.queue.map((q) => {
    const li = document.createElement("li");
    li.textContent = `Scanné ${at(q.scanned_at)} : ${plural(q.items.length, "chèque", "chèques")}, ${euros(q.total_cents)}.`;
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

// ---- The device ----

async function renderDevice() {
  const d = state.device;
  if (!d) return;
  $("info-lieu").textContent = d.venue.name;
  $("info-departements").textContent = d.departments.length ? d.departments.join(", ") : "—";
  $("info-cle").textContent = d.prefix;
  const known = await store.countRevocations().catch(() => 0);
  const verifier = await codec.verifierName().catch(() => "?");
  $("info-synchro").textContent = state.syncedAt
    ? `Clés et liste des chèques utilisés reçues ${at(state.syncedAt)} (${plural(known, "chèque connu", "chèques connus")} comme utilisé${known > 1 ? "s" : ""} ou annulé${known > 1 ? "s" : ""}). Signatures vérifiées par ${verifier === "webcrypto" ? "le navigateur" : "tweetnacl"}.`
    : "Pas encore reçues : connectez l'appareil au réseau.";
}

// ---- Wiring ----

function manualEntry(event) {
  event.preventDefault();
  const say = (m) => { $("message-saisie").textContent = m; };
  let number;
  try {
    number = codec.readNumber($("numero").value);
  } catch (e) {
    $("numero").focus();
    return say(e.reason === "check_digit"
      ? "Ce numéro contient une erreur de frappe : vérifiez chaque chiffre (le dernier sert de contrôle)."
      : "Le numéro du chèque a 11 chiffres, par exemple 0000 0042 178 : vérifiez-le.");
  }
  const verification = codec.readVerificationCode($("verification").value);
  if (!verification) {
    $("verification").focus();
    return say("Le code de vérification a 8 lettres et chiffres, par exemple 6CR1-X4V2 : vérifiez-le.");
  }
  if (state.basket.items.some((i) => i.number === number)) return say("Ce chèque est déjà dans le panier.");
  say("");
  $("numero").value = "";
  $("verification").value = "";
  addItem({ number, input: { number, verification_code: verification } });
  $("numero").focus();
}

let emptying = 0;

function emptyBasket() {
  const button = $("vider");
  if (!emptying) {
    // A second tap confirms: a basket of ten vouchers is not lost by a slip.
    button.textContent = "Confirmer : vider le panier";
    emptying = setTimeout(() => { emptying = 0; button.textContent = "Vider le panier"; }, 5000);
    return;
  }
  clearTimeout(emptying);
  emptying = 0;
  button.textContent = "Vider le panier";
  clearBasket();
  renderBasket();
  announce("Panier vidé.");
}

function wire() {
  document.addEventListener("pointerdown", unlockSound, { once: true });
  document.addEventListener("keydown", unlockSound, { once: true });
  $("form-association").addEventListener("submit", (e) => { e.preventDefault(); pair($("code-association").value); });
  $("form-saisie").addEventListener("submit", manualEntry);
  $("encaisser").addEventListener("click", confirmBasket);
  $("vider").addEventListener("click", emptyBasket);
  $("bouton-camera").addEventListener("click", () => {
    state.cameraWanted = !scanCamera.running;
    if (state.cameraWanted) scanCamera.start(); else scanCamera.stop();
  });
  $("fermer-rapport").addEventListener("click", () => {
    state.report = [];
    store.save("report", []);
    renderReport();
    $("titre-scanner").focus();
  });
  $("nouveau-panier").addEventListener("click", () => show("scanner"));
  $("retour-panier").addEventListener("click", () => show("scanner"));
  $("annuler-resultat").addEventListener("click", startUndo);
  $("annuler-dernier").addEventListener("click", startUndo);
  $("form-annulation").addEventListener("submit", undo);
  $("renoncer-annulation").addEventListener("click", () => show("scanner"));
  $("dissocier").addEventListener("click", () => { $("confirmer-dissociation").hidden = false; $("oui-dissocier").focus(); });
  $("non-dissocier").addEventListener("click", () => { $("confirmer-dissociation").hidden = true; $("dissocier").focus(); });
  $("oui-dissocier").addEventListener("click", unpair);
  for (const b of document.querySelectorAll("#navigation button")) {
    b.addEventListener("click", () => show(b.dataset.ecran));
  }
  addEventListener("offline", () => setOnline(false));
  addEventListener("online", () => probe.now());
  document.addEventListener("visibilitychange", () => {
    // A hidden page gives the camera back (battery, other apps).
    if (document.hidden) { scanCamera.stop(); pairingCamera.stop(); } else if (state.screen) show(state.screen, { focus: false });
  });
}

probe.now = async () => {
  try {
    const res = await fetch("/healthz", { cache: "no-store" });
    if (res.ok) setOnline(true);
  } catch (e) {
    setOnline(false);
  }
};

async function periodic() {
  if (state.online && state.device) {
    await sendQueue();
    await refreshAll();
  }
  setTimeout(periodic, REFRESH_EVERY_MS);
}

function boot() {
  wire();
  renderHeader();
  renderOnline();
  if (!state.device) {
    show("association", { focus: false });
    refreshKeys().catch(() => {});
  } else {
    show("scanner", { focus: false });
    if (state.online) backOnlineQuietly();
  }
  setTimeout(probe, PROBE_EVERY_MS);
  setTimeout(periodic, REFRESH_EVERY_MS);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("sw.js").catch(() => {});
  }
}

// backOnlineQuietly is what a page opened with the network does first.
async function backOnlineQuietly() {
  await refreshAll();
  await sendQueue();
  await recheckBasket();
}

boot();
