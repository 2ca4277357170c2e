// Voiding: look a chéquier up, void it, or void a single voucher, each with
// the reason the ledger records.
import { api, el, euros, plural, day, dateTime, chequierStatuses, voucherStatuses, badge, say, submit, table } from "./common.js";

function chequierView(c) {
  const facts = [
    `Chéquier ${c.number}, commande n° ${c.batch_id}, département ${c.department}. État : `,
    badge(c.status, chequierStatuses), ". ",
    `${c.vouchers.length} ${plural(c.vouchers.length, "chèque", "chèques")} de ${euros(c.face_value_cents)}, valables jusqu'au ${day(c.valid_until)}.`,
  ];
  if (c.activated_at) facts.push(` Remis le ${dateTime(c.activated_at)}.`);
  if (c.beneficiary_ref) facts.push(` Référence du bénéficiaire : ${c.beneficiary_ref}.`);
  if (c.voided_at) facts.push(` Annulé le ${dateTime(c.voided_at)} (${c.void_reason || "sans motif"}).`);
  return [
    el("p", null, facts),
    table(`Chèques du chéquier ${c.number}`,
      [{ label: "Position", num: true }, { label: "Numéro" }, { label: "État" }],
      c.vouchers.map((v) => [String(v.position), v.number,
        [badge(v.status, voucherStatuses), v.replaced_by ? ` (remplacé par ${v.replaced_by})` : ""]])),
  ];
}

async function show(number) {
  const c = await api("GET", `/api/v1/chequiers/${encodeURIComponent(number)}`);
  document.getElementById("chequier").replaceChildren(...chequierView(c));
}

submit(document.getElementById("lookup"), async (data) => {
  await show(String(data.get("number")).trim());
});

const voidChequier = document.getElementById("void-chequier");
submit(voidChequier, async (data) => {
  const number = String(data.get("number")).trim();
  const c = await api("POST", `/api/v1/chequiers/${encodeURIComponent(number)}/void`, { reason: String(data.get("reason")).trim() });
  voidChequier.reset();
  const n = c.voided_vouchers.length;
  say(n === 0 ? `Chéquier ${c.number} annulé : il n’avait plus de chèque à encaisser.`
    : `Chéquier ${c.number} annulé : ${n} ${plural(n, "chèque ne peut", "chèques ne peuvent")} plus être ${plural(n, "encaissé", "encaissés")}.`, voidChequier);
});

const voidVoucher = document.getElementById("void-voucher");
submit(voidVoucher, async (data) => {
  const number = String(data.get("number")).replace(/\s+/g, "");
  const v = await api("POST", `/api/v1/vouchers/${encodeURIComponent(number)}/void`, { reason: String(data.get("reason")).trim() });
  voidVoucher.reset();
  say(`Chèque ${v.number} du chéquier ${v.chequier} annulé : il ne peut plus être encaissé.`, voidVoucher);
});
