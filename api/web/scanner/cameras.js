// The page's two cameras (camera.js): one reads the pairing code, the other
// the vouchers. Which one runs follows the screen; each says what it does
// under its preview, and a code still in view is read once.

import { Camera } from "./camera.js";
import { $ } from "./screens.js";

const SAME_CODE_MS = 2500; // a code still in view is not read again
const AIM = "Visez le QR code du chèque.";

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
// instead what to do when it cannot work. Its button, if it has one, says
// what a tap does to the camera as it is now: stop it while it runs or
// starts, start it when stopped, try again when it failed; there is none
// to tap where the browser gives no camera at all.
function cameraState(box, aim, instead, button) {
  return (s) => {
    const trouble = !["running", "starting", "stopped"].includes(s);
    box.querySelector(".etat-camera").textContent = s === "running" ? aim
      : (CAMERA_TEXT[s] || "La caméra ne démarre pas.") + (trouble ? " " + instead : "");
    box.classList.toggle("active", s === "running");
    if (button) {
      button.textContent = s === "running" || s === "starting" ? "Arrêter la caméra"
        : s === "stopped" ? "Démarrer la caméra" : "Réessayer la caméra";
      button.hidden = s === "unsupported";
    }
    if (box.id === "camera-scanner" && trouble) $("saisie").open = true;
  };
}

let scanCamera = null;
let pairingCamera = null;
let wanted = true; // the volunteer may stop the scanning camera
let lastRead = { code: null, at: 0 };

// startCameras makes the cameras; onRead gets each code read, once while
// it stays in view.
export function startCameras(onRead) {
  const read = (text) => {
    const now = Date.now();
    if (text === lastRead.code && now - lastRead.at < SAME_CODE_MS) {
      lastRead.at = now; // still in view: read once
      return;
    }
    lastRead = { code: text, at: now };
    onRead(text);
  };
  scanCamera = new Camera($("camera-scanner").querySelector("video"), read,
    cameraState($("camera-scanner"), AIM, "Saisissez le chèque à la main.", $("bouton-camera")));
  pairingCamera = new Camera($("camera-association").querySelector("video"), read,
    cameraState($("camera-association"), "Visez le QR code d'association.", "Collez le code ci-dessous."));
}

// forgetLastRead lets the code in view count again: on another screen, or
// once it left the basket.
export function forgetLastRead() {
  lastRead = { code: null, at: 0 };
}

// follow runs the camera of the screen shown, and stops the other.
export function follow(screen) {
  if (screen === "association") pairingCamera.start(); else pairingCamera.stop();
  if (screen === "scanner" && wanted) scanCamera.start(); else scanCamera.stop();
}

export function toggleScanCamera() {
  wanted = !scanCamera.on; // a camera that failed is tried again
  if (wanted) scanCamera.start(); else scanCamera.stop();
}

// stopCameras gives the cameras back while the page is hidden (battery,
// other apps).
export function stopCameras() {
  scanCamera.stop();
  pairingCamera.stop();
}

let remark = 0;

// cameraSays shows a remark under the scanning camera for a few seconds,
// then the usual "aim at the QR code".
export function cameraSays(text) {
  const line = $("camera-scanner").querySelector(".etat-camera");
  line.textContent = text;
  clearTimeout(remark);
  remark = setTimeout(() => {
    if (scanCamera.running && line.textContent === text) line.textContent = AIM;
  }, 4000);
}
