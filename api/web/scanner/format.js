// Amounts and times as the scanner writes them, in French and in Paris time.

const NBSP = "\u00a0";

export function euros(cents) {
  const s = (cents / 100).toFixed(2).replace(".", ",").replace(/\B(?=(\d{3})+(?!\d))/g, NBSP);
  return s + NBSP + "€";
}

// eurosShort drops the cents of a whole amount: "30 €".
export function eurosShort(cents) {
  return cents % 100 === 0 ? `${cents / 100}${NBSP}€` : euros(cents);
}

export const timeFormat = new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", day: "2-digit", month: "2-digit" });
export const monthFormat = new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", month: "long", year: "numeric" });

export function at(iso) {
  const d = new Date(iso);
  return `le ${dayFormat.format(d)} à ${timeFormat.format(d)}`;
}

export function plural(n, one, many) {
  return `${n} ${n > 1 ? many : one}`;
}

// vouchersLine says what a basket holds, from its items' value_cents: "2
// chèques — 20 €". A voucher typed offline has no known value yet (0): it
// is counted apart, never as "0 €", since the server judges its amount.
export function vouchersLine(items) {
  const known = items.filter((i) => i.value_cents > 0);
  const unknown = items.length - known.length;
  const parts = [];
  if (known.length) parts.push(`${plural(known.length, "chèque", "chèques")} — ${eurosShort(known.reduce((s, i) => s + i.value_cents, 0))}`);
  if (unknown) parts.push(`${plural(unknown, "chèque", "chèques")} à confirmer (montant vérifié au retour du réseau)`);
  return parts.join(" + ");
}
