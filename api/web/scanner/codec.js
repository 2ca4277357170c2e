// The codes of docs/voucher-format.md, read and checked in the browser, so
// that the scanner can judge a voucher without the server: the envelope
// (section 2), the checks of section 5 in their order, with the same error
// names, the fields of each type (section 3) and the printed number's
// check digit (section 7.1). The server stays the judge of whether a
// voucher was already spent; this is what a device can know on its own.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const VALUE = new Map([...ALPHABET].map((c, i) => [c, i]));
const SIGNATURE = 64;

export const VOUCHER = 1;
export const ACTIVATION = 2;
export const PAIRING = 3;
export const CHECKPOINT = 4;
export const RECEIPT = 5;

// Payload length (header and body) of each type, section 1.
const PAYLOAD = { [VOUCHER]: 21, [ACTIVATION]: 11, [PAIRING]: 30, [CHECKPOINT]: 50, [RECEIPT]: 76 };

// Unused low bits of the last character, by text length mod 8 (section 2);
// the lengths missing here cannot be base32 of whole bytes.
const UNUSED_BITS = { 0: 0, 2: 2, 4: 4, 5: 1, 7: 3 };

export class CodeError extends Error {
  constructor(reason) {
    super(reason);
    this.reason = reason; // too_short, encoding, unknown_type, …, as section 5 names them
  }
}

// decode runs steps 1 to 5 of section 5: the bytes, without any key.
export function decode(text) {
  if (text.length < 106) throw new CodeError("too_short");
  const values = [];
  for (const c of text) {
    const v = VALUE.get(c);
    if (v === undefined) throw new CodeError("encoding");
    values.push(v);
  }
  const unused = UNUSED_BITS[text.length % 8];
  if (unused === undefined || (values[values.length - 1] & ((1 << unused) - 1)) !== 0) {
    throw new CodeError("encoding");
  }
  const type = (values[0] << 3) | (values[1] >> 2);
  const payloadLength = PAYLOAD[type];
  if (payloadLength === undefined) throw new CodeError("unknown_type");
  const n = Math.floor((5 * text.length) / 8);
  if (n < payloadLength + SIGNATURE) throw new CodeError("too_short");
  if (n > payloadLength + SIGNATURE) throw new CodeError("trailing_bytes");
  const bytes = new Uint8Array(n);
  let acc = 0, bits = 0, j = 0;
  for (const v of values) {
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      if (j < n) bytes[j++] = (acc >> bits) & 0xff;
    }
    acc &= (1 << bits) - 1;
  }
  return { type, keyId: bytes[1], payload: bytes.subarray(0, n - SIGNATURE), signature: bytes.subarray(n - SIGNATURE) };
}

function u16(b, i) { return (b[i] << 8) | b[i + 1]; }
function u32(b, i) { return ((b[i] << 24) >>> 0) + (b[i + 1] << 16) + (b[i + 2] << 8) + b[i + 3]; }
// Serials stay below 10^10, well inside a double's exact integers; a larger
// value is refused by the field rule anyway.
function u64(b, i) { return u32(b, i) * 4294967296 + u32(b, i + 4); }

// department reads section 3.1's three bytes, or returns null.
function department(b, i) {
  const s = String.fromCharCode(b[i], b[i + 1], b[i + 2]);
  if (/^(0[1-9]|1[0-9]|2[1-9AB]|[3-8][0-9]|9[0-5]) $/.test(s)) return s.slice(0, 2);
  if (/^97[1-6]$/.test(s)) return s;
  return null;
}

// fields reads the body of a signed payload (step 8), or throws invalid_payload.
function fields(type, p) {
  const bad = () => { throw new CodeError("invalid_payload"); };
  switch (type) {
    case VOUCHER: {
      const v = { serial: u64(p, 2), department: department(p, 10), valueCents: u32(p, 13), validFrom: u16(p, 17), validUntil: u16(p, 19) };
      if (v.serial < 1 || v.serial > 9999999999 || !v.department || v.valueCents <= 0 || v.validUntil < v.validFrom) bad();
      v.number = formatNumber(v.serial);
      return v;
    }
    case ACTIVATION: {
      const a = { department: department(p, 2), year: u16(p, 5), seq: u32(p, 7) };
      if (!a.department || a.year < 2000 || a.year > 9999 || a.seq <= 0) bad();
      return a;
    }
    case PAIRING: {
      const pr = { id: u64(p, 2), expiresUnix: u32(p, 26) };
      if (pr.id <= 0 || pr.expiresUnix <= 0) bad();
      return pr;
    }
    case RECEIPT: {
      // The scanner keeps its receipts as the server sent them; it reads
      // them only to show what one says (amounts stay below 2^53 cents).
      const r = { redemptionId: u64(p, 2), venueId: u64(p, 10), totalCents: u64(p, 18), vouchers: u16(p, 26) };
      if (r.redemptionId <= 0 || r.venueId <= 0 || r.totalCents <= 0 || r.vouchers <= 0) bad();
      return r;
    }
    default:
      return {};
  }
}

// The group order L of Ed25519, little-endian: a signature whose S is not
// below it is refused (RFC 8032), whichever library verifies the rest.
const L = [0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10];

function canonicalS(signature) {
  for (let i = 31; i >= 0; i--) {
    const s = signature[32 + i];
    if (s !== L[i]) return s < L[i];
  }
  return false;
}

function fromBase64(s) {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

// Ed25519: WebCrypto where the browser has it, else tweetnacl (vendored),
// loaded only then.
let engine = null;

async function chooseEngine() {
  try {
    // Key 1 and the signature of vector voucher-78 (section 9): a browser
    // whose WebCrypto lacks Ed25519, or gets it wrong, is not trusted.
    const key = await crypto.subtle.importKey("raw", fromBase64("A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="), { name: "Ed25519" }, false, ["verify"]);
    const v = decode("AEAQAAAAAAAAAABKG44CAAAAAPUE7ZSSX7MF7T3NLJ7NCAOUVGQWY6K2KGSGJAWVXJU763CIH3FP35WCK3KLMGJLHXI3SS7VIHWUJXT3DNJOOG3S4OQAA6TSIH2B5RQAMZKFENAH");
    if (await crypto.subtle.verify({ name: "Ed25519" }, key, v.signature, v.payload)) return "webcrypto";
  } catch (e) {
    // fall through to tweetnacl
  }
  await new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = new URL("vendor/tweetnacl/nacl-fast.min.js", import.meta.url).href;
    s.onload = resolve;
    s.onerror = () => reject(new Error("tweetnacl did not load"));
    document.head.append(s);
  });
  return "tweetnacl";
}

const imported = new Map(); // public key (base64) -> CryptoKey

async function verifySignature(publicKey, signature, payload) {
  engine = engine || chooseEngine();
  const which = await engine;
  if (which === "webcrypto") {
    let key = imported.get(publicKey);
    if (!key) {
      key = await crypto.subtle.importKey("raw", fromBase64(publicKey), { name: "Ed25519" }, false, ["verify"]);
      imported.set(publicKey, key);
    }
    return crypto.subtle.verify({ name: "Ed25519" }, key, signature, payload);
  }
  return self.nacl.sign.detached.verify(payload, signature, fromBase64(publicKey));
}

// verifierName says which implementation checks signatures ("webcrypto" or
// "tweetnacl"), for the page's device screen.
export async function verifierName() {
  engine = engine || chooseEngine();
  return engine;
}

// verify runs every step of section 5 against a key set as GET /api/v1/keys
// returns it. It answers {type, keyId, fields} or throws a CodeError.
export async function verify(text, keySet) {
  const d = decode(text);
  const key = (keySet && keySet.keys || []).find((k) => k.id === d.keyId);
  if (!key || d.keyId === 0) throw new CodeError("unknown_key");
  if (key.status === "revoked") throw new CodeError("revoked_key");
  if (!canonicalS(d.signature) || !(await verifySignature(key.public_key, d.signature, d.payload))) {
    throw new CodeError("bad_signature");
  }
  return { type: d.type, keyId: d.keyId, fields: fields(d.type, d.payload) };
}

// The Damm table of section 7.1, row = interim, column = digit.
const DAMM = ["0317598642", "7092154863", "4206871359", "1750983426", "6123045978",
  "3674209581", "5869720134", "8945362017", "9438617205", "2581436790"];

function damm(digits) {
  let interim = 0;
  for (const c of digits) interim = Number(DAMM[interim][Number(c)]);
  return interim;
}

// formatNumber writes a serial as printed: "0000 0000 427".
export function formatNumber(serial) {
  const s = String(serial).padStart(10, "0");
  const n = s + damm(s);
  return `${n.slice(0, 4)} ${n.slice(4, 8)} ${n.slice(8)}`;
}

// readNumber checks a typed voucher number and returns it as printed; it
// throws number_format or check_digit (section 7.1).
export function readNumber(text) {
  const s = text.replace(/[\s.-]/g, "");
  if (!/^[0-9]{11}$/.test(s) || /^0{10}/.test(s)) throw new CodeError("number_format");
  if (damm(s) !== 0) throw new CodeError("check_digit");
  return `${s.slice(0, 4)} ${s.slice(4, 8)} ${s.slice(8)}`;
}

// revokedKeyOf returns the id of the revoked key that signed the voucher
// typed as number (as readNumber returns it), from the serial ranges a key
// set as GET /api/v1/keys returns it lists for each revoked key, or null:
// a typed number has no code to read its key id from.
export function revokedKeyOf(number, keySet) {
  const serial = Number(number.replace(/ /g, "").slice(0, 10));
  for (const k of (keySet && keySet.keys) || []) {
    if (k.status !== "revoked") continue;
    if ((k.serials || []).some(([first, last]) => serial >= first && serial <= last)) return k.id;
  }
  return null;
}

// readVerificationCode normalizes a typed verification code as the server
// reads it (section 7.2), or returns null if it cannot be one.
export function readVerificationCode(text) {
  const s = text.toUpperCase().replace(/[\s-]/g, "").replace(/O/g, "0").replace(/[IL]/g, "1");
  if (!/^[0-9ABCDEFGHJKMNPQRSTVWXYZ]{8}$/.test(s)) return null;
  return `${s.slice(0, 4)}-${s.slice(4)}`;
}

// Days are counted from 1970-01-01 (section 3.2); "today" is the calendar
// date in Paris, whatever the device's time zone.
const parisDate = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Paris", year: "numeric", month: "2-digit", day: "2-digit" });

export function parisDay(date) {
  const p = Object.fromEntries(parisDate.formatToParts(date).map((x) => [x.type, x.value]));
  return Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day)) / 86400000;
}

// frenchDay writes a Day as "31/12/2027".
export function frenchDay(day) {
  const d = new Date(day * 86400000);
  const two = (n) => String(n).padStart(2, "0");
  return `${two(d.getUTCDate())}/${two(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`;
}

// startOfParisDay is the first instant of the Paris calendar day of date.
export function startOfParisDay(date) {
  const midnightUTC = parisDay(date) * 86400000;
  // Paris is ahead of UTC by one or two hours; the offset at that
  // midnight UTC is the offset at Paris midnight (DST changes at 01:00 UTC).
  const p = Object.fromEntries(new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Paris", hourCycle: "h23", hour: "2-digit", minute: "2-digit" })
    .formatToParts(new Date(midnightUTC)).map((x) => [x.type, x.value]));
  const offset = (Number(p.hour) * 60 + Number(p.minute)) * 60000;
  return new Date(midnightUTC - offset);
}
