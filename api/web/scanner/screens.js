// The page's screens, one shown at a time, its menu, and what screen
// readers are told.

import { state } from "./state.js";

export const $ = (id) => document.getElementById(id);

const SCREENS = ["chargement", "association", "scanner", "resultat", "annulation", "journee", "appareil"];

let screen = null;
let entered = () => {};

// current is the name of the screen shown, null before the first.
export function current() {
  return screen;
}

// whenShown sets what showing a screen starts (its camera, its contents):
// app.js knows every screen, this module none of them.
export function whenShown(fn) {
  entered = fn;
}

export function show(name, { focus = true } = {}) {
  // Another screen starts at the top, header in view: the scroll position
  // of a long basket means nothing on the answer to it.
  if (name !== screen) window.scrollTo(0, 0);
  screen = name;
  for (const s of SCREENS) $("ecran-" + s).hidden = s !== name;
  $("navigation").hidden = !state.device;
  for (const b of document.querySelectorAll("#navigation button")) {
    if (b.dataset.ecran === name) b.setAttribute("aria-current", "page");
    else b.removeAttribute("aria-current");
  }
  entered(name);
  if (focus) $("ecran-" + name).querySelector("h1").focus({ preventScroll: true });
}

let announced = 0;

// announce speaks to screen readers through the assertive live region.
export function announce(text) {
  const el = $("annonce");
  el.textContent = "";
  const n = ++announced;
  setTimeout(() => { if (n === announced) el.textContent = text; }, 50);
}
