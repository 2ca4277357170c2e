// Manual entry: a voucher typed by its printed number and verification
// code, for a QR code the camera cannot read. Both are checked for typing
// mistakes on the device (the number's check digit), then go into the
// basket like a scanned voucher; its verdict is shown under the form.

import * as codec from "./codec.js";
import { state } from "./state.js";
import { addItem } from "./basket.js";
import { $ } from "./screens.js";

export function manualEntry(event) {
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
  // The verdict now stands under the form: focus (and the view) go to it,
  // so that a refusal is never missed; the next number is a tap away.
  $("verdict").focus();
}
