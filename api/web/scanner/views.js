// What the screens show, drawn from the state: the header and the offline
// banner, the basket and the verdict of the last voucher read, the report
// of the baskets sent late, the answer to a basket, the last redemption,
// the device. Every text from the API is set as text, never as HTML.

import * as codec from "./codec.js";
import * as store from "./store.js";
import { state, sendable, undoable } from "./state.js";
import { isOnline } from "./network.js";
import { $, announce, show } from "./screens.js";
import { at, euros, plural, vouchersLine } from "./format.js";

export function renderHeader() {
  $("nom-lieu").textContent = state.device ? state.device.venue.name : "";
}

export function renderOnline() {
  $("bandeau-hors-ligne").hidden = isOnline();
  const n = state.queue.length;
  $("attente").textContent = n ? `${plural(n, "panier attend", "paniers attendent")} d'être envoyé${n > 1 ? "s" : ""}.` : "";
}

const STATE_LABEL = { ok: "Valable", refused: "Refusé", checking: "Vérification", "offline-ok": "Vérifié hors ligne", "offline-manual": "À confirmer" };

// amountOf is an item's amount as the basket shows it: "…" while it is
// checked, nothing for a refused voucher of unknown value, never "0 €".
function amountOf(item) {
  if (item.value_cents) return euros(item.value_cents);
  if (item.state === "checking") return "…";
  if (item.state === "offline-manual") return "Montant à confirmer";
  return "";
}

function itemView(item) {
  const li = document.createElement("li");
  li.className = "article " + item.state;
  const amount = document.createElement("p");
  amount.className = "montant";
  amount.textContent = amountOf(item);
  amount.hidden = !amount.textContent;
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
  remove.dataset.item = item.id;
  remove.setAttribute("aria-label", `Retirer le chèque ${item.number || ""} du panier`);
  li.append(label, amount, number, message, remove);
  return li;
}

// renderBasket lists the basket, newest first: what will be redeemed, then
// the refused vouchers apart, to hand back. Each "Retirer" button carries
// its item's id in data-item, which app.js listens for.
export function renderBasket() {
  const items = state.basket.items;
  const newest = items.slice().reverse();
  const go = sendable();
  const refused = newest.filter((i) => i.state === "refused");
  $("liste-panier").replaceChildren(...newest.filter((i) => i.state !== "refused").map(itemView));
  $("liste-refuses").replaceChildren(...refused.map(itemView));
  $("refuses").hidden = refused.length === 0;
  $("titre-refuses").textContent = `${refused.length} refusé${refused.length > 1 ? "s" : ""}, à rendre à la personne`;
  $("titre-panier").textContent = go.length ? `Panier : ${plural(go.length, "chèque", "chèques")}` :
    items.length ? "Panier : aucun chèque à encaisser" : "Panier";
  $("panier-vide").hidden = items.length > 0;
  $("vider").hidden = items.length === 0;
  $("actions-panier").hidden = go.length === 0; // nothing to send: no button in the way
  renderVerdict();
  const button = $("encaisser");
  button.disabled = go.length === 0 || items.some((i) => i.state === "checking") || state.sending;
  button.textContent = go.length === 0 ? "Encaisser" : `Encaisser ${vouchersLine(go)}`;
}

// renderVerdict shows the last voucher read where the person looks: under
// the camera for a scanned one, under the form for a typed one. The box is
// moved only when it changes place: moving it would take its focus away.
function renderVerdict() {
  const box = $("verdict");
  const item = state.basket.items[state.basket.items.length - 1];
  box.hidden = !item;
  if (!item) return;
  const anchor = item.code ? $("camera-scanner") : $("form-saisie");
  if (box.previousElementSibling !== anchor) anchor.after(box);
  box.className = "article " + item.state;
  box.querySelector(".etiquette").textContent = `${STATE_LABEL[item.state]} · n° ${item.number || "?"}`;
  const amount = box.querySelector(".montant");
  amount.textContent = amountOf(item);
  amount.hidden = !amount.textContent;
  box.querySelector(".raison").textContent = item.message;
}

export function renderReport() {
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

// showResult fills the screen with the answer to a basket, or to an undo.
export function showResult(kind, title, detail, lines = []) {
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

// renderLast offers to undo the last redemption while the server allows it.
export function renderLast() {
  const l = undoable();
  $("dernier").hidden = !l;
  if (l) {
    $("texte-dernier").textContent = `Dernier encaissement : ${euros(l.total_cents)} (${plural(l.count, "chèque", "chèques")}) ${at(l.received_at)}.`;
  }
}

export async function renderDevice() {
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
