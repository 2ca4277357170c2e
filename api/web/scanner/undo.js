// Undo: the last redemption reversed with a reason, while the server still
// allows it (the reversible_until of its answer); the server has the last
// word.

import { state, markLastReversed, undoable } from "./state.js";
import { Offline, errorMessage, request } from "./network.js";
import { showResult } from "./views.js";
import { $, show } from "./screens.js";
import { at, euros, plural } from "./format.js";

export function startUndo() {
  const l = undoable();
  if (!l) return;
  $("texte-dernier").textContent = "";
  $("texte-annulation").textContent = `Encaissement de ${euros(l.total_cents)} (${plural(l.count, "chèque", "chèques")}) ${at(l.received_at)}. Les chèques pourront être utilisés à nouveau.`;
  $("form-annulation").reset();
  $("message-annulation").textContent = "";
  show("annulation");
}

export async function undo(event) {
  event.preventDefault();
  const l = undoable();
  // The message sits between the reasons and the buttons, in view above
  // the navigation bar, and takes the focus: it is what to read next.
  const say = (m) => {
    const el = $("message-annulation");
    el.textContent = m;
    el.focus({ preventScroll: true });
    el.scrollIntoView({ block: "center" });
  };
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
    if (res.status === 409 && state.last === l) markLastReversed();
    return say(errorMessage(res));
  }
  if (state.last === l) markLastReversed();
  showResult("annule", "Encaissement annulé", `${euros(l.total_cents)} ne seront pas remboursés ; les chèques peuvent être utilisés à nouveau.`);
}
