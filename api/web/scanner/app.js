// The venue scanner (docs/scanner.md): pair the device, scan or type the
// vouchers of a session into a basket, redeem it, undo a mistake, see the
// day and the month. Every verdict comes from the API, in its own French
// words; without network the page judges what a device can (signature,
// dates, département, the last list of spent vouchers), keeps the baskets
// and sends them when the network returns.
//
// This module wires the others to the page and starts it; the state has
// its one owner in state.js.

import { unlockSound } from "./camera.js";
import { state, clearReport } from "./state.js";
import { isOnline, onNetwork, probeNow, setOnline, startProbing } from "./network.js";
import { refreshAll, refreshKeys } from "./sync.js";
import { renderBasket, renderDevice, renderHeader, renderLast, renderOnline, renderReport } from "./views.js";
import { $, announce, current, show, whenShown } from "./screens.js";
import { follow, forgetLastRead, startCameras, stopCameras, toggleScanCamera } from "./cameras.js";
import { emptyBasket, recheckBasket, removeItem, scanned } from "./basket.js";
import { manualEntry } from "./manual.js";
import { confirmBasket, sendQueue } from "./redeem.js";
import { startUndo, undo } from "./undo.js";
import { keyRevoked, pair, pairScanned, unpair } from "./device.js";
import { downloadReceipts, loadToday } from "./today.js";

const REFRESH_EVERY_MS = 60 * 1000; // keys, venue, revocations, queue

// entered starts what a screen needs each time it is shown.
function entered(name) {
  forgetLastRead(); // a code still in view counts again on another screen
  follow(name);
  if (name === "scanner") { renderBasket(); renderReport(); renderLast(); }
  if (name === "journee") loadToday();
  if (name === "appareil") renderDevice();
}

function codeRead(text) {
  if (current() === "association") pairScanned(text);
  else if (current() === "scanner") scanned(text);
}

async function backOnline() {
  announce("Réseau rétabli.");
  await sendQueue();
  await recheckBasket();
  await refreshAll();
  if (current() === "journee") loadToday();
}

// backOnlineQuietly is what a page opened with the network does first.
async function backOnlineQuietly() {
  await refreshAll();
  await sendQueue();
  await recheckBasket();
}

function wire() {
  onNetwork({
    changed(online) {
      renderOnline();
      if (online) backOnline();
    },
    revoked: keyRevoked,
  });
  whenShown(entered);
  startCameras(codeRead);
  document.addEventListener("pointerdown", unlockSound, { once: true });
  document.addEventListener("keydown", unlockSound, { once: true });
  $("form-association").addEventListener("submit", (e) => { e.preventDefault(); pair($("code-association").value); });
  $("form-saisie").addEventListener("submit", manualEntry);
  $("panier").addEventListener("click", (e) => {
    const remove = e.target.closest("button[data-item]");
    if (remove) removeItem(remove.dataset.item);
  });
  $("encaisser").addEventListener("click", confirmBasket);
  $("telecharger-recus").addEventListener("click", () => downloadReceipts());
  $("vider").addEventListener("click", emptyBasket);
  $("bouton-camera").addEventListener("click", toggleScanCamera);
  $("fermer-rapport").addEventListener("click", () => {
    clearReport();
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
  addEventListener("online", () => probeNow());
  document.addEventListener("visibilitychange", () => {
    // A hidden page gives the camera back (battery, other apps).
    if (document.hidden) stopCameras(); else if (current()) show(current(), { focus: false });
  });
}

async function periodic() {
  if (isOnline() && state.device) {
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
    if (isOnline()) backOnlineQuietly();
  }
  startProbing();
  setTimeout(periodic, REFRESH_EVERY_MS);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("sw.js").catch(() => {});
  }
}

boot();
