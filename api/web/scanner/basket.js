// The basket of a session: each voucher scanned or typed is added, checked
// at once with the server (POST /api/v1/vouchers/check), or on the device
// without it (offline.js), and can be removed; the basket can be emptied.

import * as codec from "./codec.js";
import { signal } from "./camera.js";
import { state, addToBasket, newBasket, newId, removeFromBasket, saveBasket, updateItem } from "./state.js";
import { Offline, errorMessage, isOnline, request } from "./network.js";
import { checkOffline } from "./offline.js";
import { renderBasket } from "./views.js";
import { $, announce } from "./screens.js";
import { cameraSays, forgetLastRead } from "./cameras.js";

const NOT_A_VOUCHER = {
  [codec.ACTIVATION]: "C'est le QR code d'activation du chéquier (sur sa couverture) : scannez les chèques à l'intérieur.",
  [codec.PAIRING]: "C'est un code d'association d'appareil, pas un chèque.",
};

// scanned takes a code read by the scanning camera.
export function scanned(code) {
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

// addItem adds a voucher, {code, input} or {number, input}, and checks it.
export function addItem(item) {
  Object.assign(item, { id: newId(), state: "checking", message: "Vérification…", value_cents: 0 });
  addToBasket(item);
  renderBasket();
  check(item);
}

async function check(item) {
  if (isOnline()) {
    try {
      const res = await request("POST", "/api/v1/vouchers/check", { body: item.input });
      // Held back (429) or unavailable (5xx), the server has not judged the
      // voucher: it is checked on the device, as offline; the basket's
      // redemption judges it for good either way.
      if (res.status !== 429 && res.status < 500) {
        if (res.status === 200) {
          verdict(item, res.data);
        } else {
          updateItem(item, { state: "refused", message: errorMessage(res) });
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

// verdict records the server's verdict on an item, from a check or a basket.
export function verdict(item, v) {
  updateItem(item, { state: v.accepted ? "ok" : "refused", message: v.message, reason: v.reason || null,
    value_cents: v.value_cents, number: v.number || item.number, serial: v.serial || item.serial });
}

function checked(item) {
  if (!state.basket.items.includes(item)) return; // removed meanwhile
  saveBasket();
  renderBasket();
  // A typed voucher's verdict, under the form, grows once judged: it is
  // brought whole into view again, above the sticky button (scroll-padding).
  if (!item.code && state.basket.items[state.basket.items.length - 1] === item) $("verdict").scrollIntoView({ block: "nearest" });
  if (item.state === "refused") signal(false);
  announce(`Chèque ${item.number || ""} : ${item.message}`);
}

// recheckBasket asks the server about what was judged offline, once back.
export async function recheckBasket() {
  for (const item of state.basket.items.filter((i) => i.state.startsWith("offline"))) {
    updateItem(item, { state: "checking" });
    await check(item);
    if (!isOnline()) return;
  }
}

export function removeItem(id) {
  const item = removeFromBasket(id);
  forgetLastRead();
  renderBasket();
  announce(`Chèque ${item && item.number ? item.number + " " : ""}retiré du panier.`);
  $("titre-panier").focus();
}

// clearBasket starts an empty basket, where the codes in view count again.
export function clearBasket() {
  newBasket();
  forgetLastRead();
}

let emptying = 0;

export function emptyBasket() {
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
