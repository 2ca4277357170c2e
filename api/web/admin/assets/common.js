// Shared by the pages of département staff and auditors: calls to the JSON
// API with the session cookie and its CSRF token, French formatting, small
// DOM helpers. No framework and no build step: this ES module is served as
// is, and each page's script imports what it uses.
const meta = (name) => {
  const m = document.querySelector(`meta[name="${name}"]`);
  return m ? m.content : "";
};
export const session = { role: meta("role"), department: meta("department"), csrf: meta("csrf-token") };

class APIError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || ""; // the request's member it is about (error.field)
  }
}

// api calls the JSON API. Every error comes back as an APIError whose
// message is the API's own French message, ready to show. A 401
// "unauthorized" means the session ended (expired, logged out elsewhere,
// key revoked, account disabled): back to the login page, which returns
// here. Other 401s (a wrong second-factor code) are refusals to show.
export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  const opts = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = session.csrf;
  let res;
  try {
    res = await fetch(path, opts);
  } catch (e) {
    throw new APIError(0, "network", "Le serveur ne répond pas : vérifiez la connexion, puis réessayez.");
  }
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch (e) {
    data = null;
  }
  if (res.status === 401 && session.role && (!data || !data.error || data.error.code === "unauthorized")) {
    location.assign("/connexion?suite=" + encodeURIComponent(location.pathname));
    throw new APIError(401, "unauthorized", "Votre session a pris fin : reconnectez-vous.");
  }
  if (!res.ok) {
    const err = data && data.error ? data.error : {};
    throw new APIError(res.status, err.code || "internal",
      err.message || `Le serveur a répondu ${res.status} : réessayez dans un moment.`, err.field);
  }
  return data;
}

// el builds an element: el("p", {class: "hint"}, "texte", child…).
// Text is always set as text, never parsed as HTML.
export function el(tag, attrs, ...children) {
  const svg = ["svg", "g", "rect", "text", "line", "title", "desc", "path"].includes(tag);
  const e = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") e.textContent = v;
    else if (k === "hidden" && !svg) e.hidden = true;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

const NNBSP = "\u202f";

// group writes an integer with French thousands separators.
export function group(n) {
  const s = String(Math.abs(Math.trunc(n)));
  const parts = [];
  for (let i = s.length; i > 0; i -= 3) parts.unshift(s.slice(Math.max(0, i - 3), i));
  return (n < 0 ? "−" : "") + parts.join(NNBSP);
}

// euros writes integer cents as "1 234,50 €" without going through a
// floating-point amount (design decision 1).
export function euros(cents) {
  const abs = Math.abs(cents);
  const units = Math.trunc(abs / 100);
  const rest = String(abs % 100).padStart(2, "0");
  return (cents < 0 ? "−" : "") + group(units) + "," + rest + NNBSP + "€";
}

// price writes integer cents as a price is printed on a chéquier: "10 €",
// "2 000 €", with the cents only when there are some ("12,50 €").
export function price(cents) {
  return cents % 100 === 0 ? (cents < 0 ? "−" : "") + group(Math.abs(cents) / 100) + NNBSP + "€" : euros(cents);
}

// plural picks the French word for a count: plural(2, "chèque", "chèques").
export function plural(n, one, many) {
  return Math.abs(n) < 2 ? one : many;
}

// parseEuros reads "10", "10,5" or "10.50" as cents; NaN otherwise.
export function parseEuros(s) {
  const m = /^\s*(\d{1,7})(?:[.,](\d{1,2}))?\s*(?:€)?\s*$/.exec(s);
  if (!m) return NaN;
  return Number(m[1]) * 100 + Number((m[2] || "0").padEnd(2, "0"));
}

// day writes YYYY-MM-DD as 30/11/2027.
export function day(s) {
  if (!s) return "";
  const [y, m, d] = s.split("-");
  return `${d}/${m}/${y}`;
}

const monthNames = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
  "septembre", "octobre", "novembre", "décembre"];

// month writes YYYY-MM as "novembre 2026".
export function month(s) {
  const [y, m] = s.split("-");
  return `${monthNames[Number(m) - 1]} ${y}`;
}

export function dateTime(s) {
  if (!s) return "";
  return new Date(s).toLocaleString("fr-FR", { timeZone: "Europe/Paris", dateStyle: "short", timeStyle: "short" });
}

// parisMonth is the current month in Paris, YYYY-MM, minus back months.
export function parisMonth(back) {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Paris", year: "numeric", month: "2-digit" })
    .formatToParts(new Date());
  let y = Number(parts.find((p) => p.type === "year").value);
  let m = Number(parts.find((p) => p.type === "month").value) - (back || 0);
  while (m < 1) { m += 12; y -= 1; }
  return `${y}-${String(m).padStart(2, "0")}`;
}

export const stages = {
  running: "en cours",
  ending: "fin proche",
  distribution_stopped: "remises arrêtées",
  grace: "période de grâce",
  expired: "expirée",
};
export const venueStatuses = { labelled: "labellisé", suspended: "suspendu", unlabelled: "label retiré" };
export const chequierStatuses = { issued: "imprimé, pas encore remis", active: "remis", void: "annulé" };
export const voucherStatuses = { inactive: "en attente de remise", active: "utilisable", redeemed: "encaissé", void: "annulé" };

export function badge(kind, labels) {
  return el("span", { class: "status " + kind }, labels[kind] || kind);
}

// Messages. The outcome of an action is shown by what was acted on (a
// form, a list item), not at the top of a long page: in a paragraph with
// role="status" (a success) or role="alert" (a refusal), focusable and
// focused, so that it is in view and read out. A refusal that names a
// field (the API's error.field, or a check of the page: invalid below)
// marks that field instead: aria-invalid, the message beside it, tied
// with aria-describedby, and the focus on the field. Without a place
// (a page that failed to load), the regions under the title take it.
const boxes = new WeakMap();

function messageBox(near) {
  let box = boxes.get(near);
  if (!box) {
    box = el("div", { class: "messages by", id: near.id ? `${near.id}-messages` : null });
    // Inside a list item or a cell, after anything else (valid HTML).
    if (near.tagName === "LI" || near.tagName === "TD") near.append(box);
    else near.after(box);
    boxes.set(near, box);
  }
  return box;
}

function unmark(form) {
  if (!form || !form.querySelectorAll) return;
  form.querySelectorAll("[aria-invalid=true]").forEach((f) => {
    f.removeAttribute("aria-invalid");
    const id = `${f.id}-error`;
    const by = (f.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && x !== id);
    if (by.length) f.setAttribute("aria-describedby", by.join(" "));
    else f.removeAttribute("aria-describedby");
    document.getElementById(id)?.remove();
  });
}

// clear empties every message of the page and unmarks form's fields.
export function clear(form) {
  document.querySelectorAll(".messages").forEach((b) => b.replaceChildren());
  unmark(form);
}

function show(near, kind, text) {
  const box = near ? messageBox(near) : document.getElementById(kind === "ok" ? "messages" : "erreurs");
  const p = el("p", { class: kind, role: near ? (kind === "ok" ? "status" : "alert") : null, tabindex: "-1" }, text);
  box.replaceChildren(p);
  p.focus({ preventScroll: true });
  p.scrollIntoView({ block: "nearest" });
  return p;
}

// say shows a success by near (a form, a list item).
export function say(text, near) {
  clear(near);
  show(near, "ok", text);
}

// invalid is a refusal by the page itself of one field of its form,
// shown as the API's refusals of a field are.
export function invalid(field, message) {
  const err = new Error(message);
  err.field = field;
  return err;
}

// fail shows a refusal by near; if near is a form and the error names one
// of its fields, by that field.
export function fail(err, near) {
  clear(near);
  const text = err instanceof Error ? err.message : String(err);
  const input = err && err.field && near && near.elements ? near.elements.namedItem(err.field) : null;
  if (!input || !input.id || input.hidden) {
    show(near, "error", text);
    return;
  }
  const id = `${input.id}-error`;
  const note = el("p", { class: "field-error", id }, text);
  const hint = input.parentElement.querySelector(".hint");
  (hint || input).after(note);
  input.setAttribute("aria-invalid", "true");
  input.setAttribute("aria-describedby", [input.getAttribute("aria-describedby"), id].filter(Boolean).join(" "));
  input.focus({ preventScroll: true });
  input.scrollIntoView({ block: "center" });
}

// submit wires a form: its button is disabled while work runs, the
// messages are cleared, and a refusal is shown by the form (or its field).
export function submit(form, work) {
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const buttons = form.querySelectorAll("button[type=submit]");
    buttons.forEach((b) => { b.disabled = true; });
    clear(form);
    try {
      await work(new FormData(form), ev.submitter);
    } catch (err) {
      fail(err, form);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  });
}

// table builds a captioned table in a scrolling box; columns are
// {label, num}, rows are arrays of cells (text or nodes). A stacked table
// (stack true) shows each row as a card on a phone, each cell under its
// column's name, so that no column is out of sight; its explicit roles
// keep it a table for screen readers once the CSS changes its display.
export function table(caption, columns, rows, attrs, stack) {
  const role = (r) => (stack ? r : null);
  const head = el("tr", { role: role("row") }, columns.map((c) =>
    el("th", { scope: "col", class: c.num ? "num" : null, role: role("columnheader") }, c.label)));
  const body = rows.map((r) => el("tr", { role: role("row") }, r.map((cell, i) => {
    const num = columns[i] && columns[i].num;
    if (i === 0 && columns[0].rowHeader) return el("th", { scope: "row", role: role("rowheader") }, cell);
    return el("td", { class: num ? "num" : null, role: role("cell"), "data-label": stack ? columns[i].label : null }, cell);
  })));
  const id = "t" + Math.random().toString(36).slice(2, 9);
  return el("div", { class: stack ? "table-wrap stack" : "table-wrap", role: "region", "aria-labelledby": id, tabindex: "0" },
    el("table", { ...(attrs || {}), role: role("table") }, el("caption", { id }, caption),
      el("thead", { role: role("rowgroup") }, head), el("tbody", { role: role("rowgroup") }, body)));
}

let departmentCache = null;
export async function departments() {
  if (!departmentCache) departmentCache = (await api("GET", "/api/v1/departments")).departments;
  return departmentCache;
}

// departmentSelect fills a <select> with the départements the session
// reaches: a département key has one, an admin all of them.
export async function departmentSelect(select, withAll) {
  const ds = await departments();
  select.replaceChildren();
  if (withAll) select.append(el("option", { value: "" }, "Tous les départements"));
  for (const d of ds) select.append(el("option", { value: d.code }, `${d.name} (${d.code})`));
  if (!withAll && session.department) select.value = session.department;
  if (ds.length === 1 && !withAll) select.disabled = true;
  return ds;
}

// download points a link at an API file; the session cookie goes with it.
export function download(href, text, name) {
  return el("a", { href, download: name || "" }, text);
}

// fetchDownload is a link to a small API file that is fetched before it is
// saved, so that a refusal (month still open, nothing to pay, no paying
// office) is shown in French instead of being saved as the file.
export function fetchDownload(href, text) {
  const a = el("a", { href }, text); // text: a string or nodes
  a.addEventListener("click", async (ev) => {
    ev.preventDefault();
    clear();
    const near = a.closest("li, td") || a;
    try {
      let res;
      try {
        res = await fetch(href, { credentials: "same-origin" });
      } catch (e) {
        throw new Error("Le serveur ne répond pas : vérifiez la connexion, puis réessayez.");
      }
      if (!res.ok) {
        let message = `Le serveur a répondu ${res.status}.`;
        try {
          message = (await res.json()).error.message;
        } catch (e) {
          // keep the status
        }
        throw new Error(message);
      }
      const m = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "");
      const url = URL.createObjectURL(await res.blob());
      const tmp = el("a", { href: url, download: m ? m[1] : href.split("/").pop() });
      document.body.append(tmp);
      tmp.click();
      tmp.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (err) {
      fail(err, near);
    }
  });
  return a;
}

// fillChooser fills the choice of what a page works on (an organisation,
// a venue): the select, inside wrap, hidden when there is one item, the
// sentence only then naming it (sentence(item)), or saying none when there
// is none. It tells whether there is anything to work on.
export function fillChooser(select, wrap, only, items, name, sentence, none) {
  wrap.hidden = items.length < 2;
  only.hidden = items.length > 1;
  only.textContent = items.length === 0 ? none : items.length === 1 ? sentence(items[0]) : "";
  select.replaceChildren(...items.map((it) => el("option", { value: String(it.id) }, name(it))));
  return items.length > 0;
}

// drawQR draws the server's rows of "0" and "1" (a QR code) as one SVG
// path, with the quiet zone of 4 modules that readers need; title says
// what it is for, to a screen reader.
export function drawQR(rows, title) {
  const n = rows.length;
  let d = "";
  rows.forEach((row, y) => {
    for (let x = 0; x < n; x++) if (row[x] === "1") d += `M${x + 4} ${y + 4}h1v1h-1z`;
  });
  const id = "q" + Math.random().toString(36).slice(2, 9);
  return el("svg", { viewBox: `0 0 ${n + 8} ${n + 8}`, width: "240", height: "240", role: "img", "aria-labelledby": id },
    el("title", { id }, title),
    el("rect", { width: n + 8, height: n + 8, fill: "#fff" }),
    el("path", { d, fill: "#000" }));
}

// askInPlace asks to confirm a change where the person acted: cell shows
// the question (focused, so it is read out and in view) and two buttons;
// yes runs work, whose refusal is shown by cell; "Non, garder" runs back.
export function askInPlace(cell, question, yes, work, back) {
  const q = el("p", { tabindex: "-1" }, question);
  const confirm = el("button", { type: "button", class: "danger", onclick: async () => {
    confirm.disabled = true;
    try {
      await work();
    } catch (err) {
      fail(err, cell);
      confirm.disabled = false;
    }
  } }, yes);
  const no = el("button", { type: "button", class: "secondary", onclick: () => { clear(); back(); } }, "Non, garder");
  cell.replaceChildren(q, el("div", { class: "actions" }, confirm, no));
  q.focus();
}

// A module runs once the page is parsed: the button is there.
const logout = document.getElementById("logout");
if (logout) {
  logout.addEventListener("click", async () => {
    try {
      await api("DELETE", "/session");
    } catch (err) {
      // The session may already be over: leave all the same.
    }
    location.assign("/connexion");
  });
}
