// The offline check: a voucher judged as far as the device can, without
// the server. Its signature against the public keys, its dates in Paris,
// the venue's départements and label, and the last list of spent and
// voided vouchers. A typed number is only checked against the serials of
// the revoked keys: its verification code's secret stays on the server.
// The server judges again when the basket is sent.

import * as codec from "./codec.js";
import * as store from "./store.js";
import { state, updateItem } from "./state.js";
import { euros } from "./format.js";

const OFFLINE_REFUSAL = {
  bad_signature: "Ce chèque n'est pas authentique : il a été modifié ou contrefait. Ne l'acceptez pas.",
  unknown_key: "Ce chèque vient d'un autre programme ou d'une clé inconnue. Ne l'acceptez pas.",
  revoked_key: "Ce chèque a été émis avec une clé retirée pour raison de sécurité. Il doit être remplacé par le département.",
  invalid_payload: "Ce QR code n'est pas un chèque Pass numérique valable.",
};

export async function checkOffline(item) {
  const refuse = (message) => updateItem(item, { state: "refused", message });
  if (!item.code) {
    if (codec.revokedKeyOf(item.number, state.keys) !== null) return refuse(OFFLINE_REFUSAL.revoked_key);
    return updateItem(item, { state: "offline-manual",
      message: "Saisi hors ligne : le code de vérification et le montant seront contrôlés au retour du réseau." });
  }
  let r;
  try {
    r = await codec.verify(item.code, state.keys);
  } catch (e) {
    return refuse(OFFLINE_REFUSAL[e.reason] || "Ce QR code n'est pas un chèque Pass numérique.");
  }
  const v = r.fields;
  updateItem(item, { number: v.number, serial: v.serial, value_cents: v.valueCents });
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
  updateItem(item, { state: "offline-ok",
    message: `Signature vérifiée sur l'appareil : ${euros(v.valueCents)}. Confirmation au retour du réseau.` });
}
