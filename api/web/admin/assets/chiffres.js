// The programme's figures (GET /api/v1/figures) as a dashboard: key
// figures, charts per month, venue and batch drawn as inline SVG, each
// followed by the table of its numbers (the accessible form of the chart),
// the closed settlement periods, and the documents auditors download.
import { session, api, el, group, euros, day, month, stages, fail, submit, table, departmentSelect, download, fetchDownload } from "./common.js";
const deptSelect = document.getElementById("f-department");
const asOf = document.getElementById("f-asof");
const board = document.getElementById("dashboard");
const auditor = session.role === "auditor" || session.role === "admin";

function query() {
  const q = new URLSearchParams();
  if (deptSelect.value) q.set("department", deptSelect.value);
  if (asOf.value) q.set("as_of", asOf.value);
  const s = q.toString();
  return s ? "?" + s : "";
}

function downloads() {
  const items = [el("li", null, download("/api/v1/reports/programme.pdf" + query(), "Rapport du programme (PDF)"),
    " — les mêmes chiffres, mis en page pour les financeurs."),
  el("li", null, download("/api/v1/figures.csv" + query(), "Chiffres en tableur (CSV)"),
    " — par département et par lot, puis la remise par structure, commune et mois.")];
  if (auditor) {
    items.push(el("li", null, download("/api/v1/ledger/export", "Export du journal (JSON Lines)"),
      " — à vérifier sur votre poste, sans faire confiance au serveur : ",
      el("code", null, "passnum audit verify --export journal.jsonl --keys cles.json"), "."));
    items.push(el("li", null, download("/api/v1/keys", "Clés publiques de signature (JSON)", "cles.json"),
      " — à comparer avec celles que l'opérateur vous a remises."));
  }
  document.getElementById("downloads").replaceChildren(...items);
}

// Key figures carry their raw value in data-value, for checking.
const keyFigures = [
  ["chequiers_printed", "Chéquiers imprimés", "count"],
  ["chequiers_handed_out", "Chéquiers remis", "count"],
  ["chequiers_untracked", "Chéquiers à remise non suivie (lots sans activation)", "count"],
  ["chequiers_started", "Chéquiers entamés", "count"],
  ["vouchers_issued", "Chèques émis", "count"],
  ["issued_cents", "Valeur émise", "cents"],
  ["vouchers_redeemed", "Chèques encaissés", "count"],
  ["redeemed_cents", "Montant encaissé", "cents"],
  ["vouchers_outstanding", "Chèques encore utilisables", "count"],
  ["outstanding_cents", "Valeur encore utilisable", "cents"],
  ["vouchers_voided", "Chèques annulés", "count"],
  ["voided_cents", "Valeur annulée", "cents"],
  ["vouchers_expired", "Chèques expirés", "count"],
  ["expired_cents", "Valeur expirée", "cents"],
  ["unused_cents", "Non utilisé (à rendre au financeur)", "cents"],
];

function figures(t) {
  const cells = keyFigures.map(([key, label, kind]) => el("div", null, el("dt", null, label),
    el("dd", { "data-figure": key, "data-value": t[key] }, kind === "cents" ? euros(t[key]) : group(t[key]))));
  const rate = (Math.round(t.redemption_rate * 1000) / 10).toLocaleString("fr-FR");
  cells.push(el("div", null, el("dt", null, "Taux d'utilisation"), el("dd", null, `${rate} %`)));
  return el("dl", { class: "figures" }, cells);
}

function check(t) {
  return t.invariant_holds
    ? el("p", { class: "notice ok", "data-invariant": "true" },
      "Contrôle : émis = encore utilisables + encaissés + annulés + expirés, en nombre et en euros.")
    : el("p", { class: "notice error", "data-invariant": "false" },
      "Écart : émis ≠ encore utilisables + encaissés + annulés + expirés. Voir les avertissements.");
}

// svg draws a chart whose text alternative is its caption and the table
// that follows it.
function svg(width, height, label, ...children) {
  return el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label }, children);
}

// hidden is text for screen readers only: it tells which month a short
// link in a table row is for.
const hidden = (text) => el("span", { class: "visually-hidden" }, text);

function shortEuros(cents) {
  const e = Math.round(cents / 100);
  if (e >= 10000) return group(Math.round(e / 1000)) + "\u202fk€";
  return group(e) + "\u202f€";
}

// A chart is drawn as wide as its box (at most 640 units), one unit per
// CSS pixel: its 12 px labels stay 12 px on a phone instead of shrinking
// with the drawing.
function chartWidth() {
  return Math.round(Math.max(280, Math.min(640, board.clientWidth)));
}

function monthChart(months) {
  const W = chartWidth(), H = 240, left = 8, top = 24, bottom = 40;
  const max = Math.max(1, ...months.map((m) => m.cents));
  // A few months get narrow bars on the left, not a few wide slabs.
  const slot = Math.min(80, (W - 2 * left) / Math.max(1, months.length));
  // A label every so many months, as many as fit (about 45 units each).
  const every = Math.max(Math.ceil(months.length / 12), Math.ceil(45 / slot));
  const bars = months.map((m, i) => {
    const h = Math.round((H - top - bottom) * m.cents / max);
    const x = left + i * slot + slot * 0.15;
    const y = H - bottom - h;
    return el("g", null,
      el("rect", { class: "bar", x: x.toFixed(1), y, width: (slot * 0.7).toFixed(1), height: Math.max(h, 1) },
        el("title", null, `${month(m.month)} : ${euros(m.cents)}`)),
      slot >= 45 ? el("text", { x: (x + slot * 0.35).toFixed(1), y: y - 6, "text-anchor": "middle" }, shortEuros(m.cents)) : null,
      i % every === 0 ? el("text", { x: (x + slot * 0.35).toFixed(1), y: H - bottom + 18, "text-anchor": "middle" },
        m.month.slice(5) + "/" + m.month.slice(2, 4)) : null);
  });
  return svg(W, H, "Montant encaissé par mois ; les nombres sont dans le tableau qui suit.",
    el("line", { class: "axis", x1: left, x2: W - left, y1: H - bottom, y2: H - bottom }), bars);
}

function hbars(rows, label) {
  const W = chartWidth(), row = 28, labelW = Math.round(W * 0.375), valueW = 90;
  const chars = Math.floor(labelW / 7.5); // what fits of a name at 12 px
  const H = rows.length * row + 8;
  const max = Math.max(1, ...rows.map((r) => r.value));
  const g = rows.map((r, i) => {
    const w = Math.round((W - labelW - valueW) * r.value / max);
    const y = 4 + i * row;
    const name = r.label.length > chars ? r.label.slice(0, chars - 1) + "…" : r.label;
    return el("g", null,
      el("text", { x: labelW - 8, y: y + 18, "text-anchor": "end" }, name),
      el("rect", { class: "bar", x: labelW, y: y + 4, width: Math.max(w, 1), height: row - 10 },
        el("title", null, `${r.label} : ${euros(r.value)}`)),
      el("text", { x: labelW + Math.max(w, 1) + 6, y: y + 18 }, euros(r.value)));
  });
  return svg(W, H, label, g);
}

const segments = [
  ["redeemed_cents", "seg-redeemed", "encaissé"],
  ["outstanding_cents", "seg-outstanding", "encore utilisable"],
  ["voided_cents", "seg-voided", "annulé"],
  ["expired_cents", "seg-expired", "expiré"],
];

function batchChart(batches) {
  const W = chartWidth(), row = 30, labelW = 130;
  const H = batches.length * row + 8;
  const g = batches.map((b, i) => {
    const y = 4 + i * row;
    let x = labelW;
    const total = Math.max(1, b.issued_cents);
    const segs = segments.map(([key, cls, label]) => {
      const w = (W - labelW - 8) * b[key] / total;
      const r = el("rect", { class: cls, x: x.toFixed(1), y: y + 4, width: Math.max(w, 0).toFixed(1), height: row - 10 },
        el("title", null, `Commande n° ${b.id} : ${label} ${euros(b[key])}`));
      x += w;
      return r;
    });
    return el("g", null, el("text", { x: labelW - 8, y: y + 19, "text-anchor": "end" }, `n° ${b.id} (${b.department})`), segs);
  });
  return svg(W, H, "Part de la valeur de chaque commande encaissée, encore utilisable, annulée ou expirée ; les montants sont dans le tableau qui suit.", g);
}

function legend() {
  return el("ul", { class: "legend" }, segments.map(([, cls, label]) => el("li", { class: cls }, label)));
}

function render(f) {
  const parts = [];
  const scope = f.department ? `département ${f.department}` : "tous les départements";
  parts.push(el("h2", null, `Chiffres au ${day(f.as_of)} — ${scope}`));
  parts.push(check(f.total));
  parts.push(figures(f.total));

  if (f.warnings.length) {
    parts.push(el("h2", null, "Avertissements"),
      el("ul", { class: "plain warnings", id: "figure-warnings" }, f.warnings.map((w) => el("li", null, w))));
  }

  parts.push(el("h2", null, "Par mois"));
  if (f.months.length) {
    parts.push(el("figure", { class: "chart" }, el("figcaption", null, "Montant encaissé par mois"), monthChart(f.months)));
    parts.push(table("Encaissements et remises par mois",
      [{ label: "Mois", rowHeader: true }, { label: "Encaissements", num: true }, { label: "Chèques", num: true },
        { label: "Montant", num: true }, { label: "Chéquiers remis", num: true }],
      f.months.map((m) => [month(m.month), group(m.redemptions), group(m.vouchers), euros(m.cents), group(m.activations)]),
      { id: "months" }));
  } else {
    parts.push(el("p", null, "Aucune activité pour l'instant."));
  }

  parts.push(el("h2", null, "Par lieu"));
  if (f.venues.length) {
    const top = f.venues.slice(0, 15);
    parts.push(el("figure", { class: "chart" },
      el("figcaption", null, f.venues.length > 15 ? "Montant encaissé par lieu (les 15 premiers)" : "Montant encaissé par lieu"),
      hbars(top.map((v) => ({ label: v.name, value: v.cents })), "Montant encaissé par lieu ; les nombres sont dans le tableau qui suit.")));
    parts.push(table("Encaissements par lieu, du plus grand au plus petit",
      [{ label: "Lieu", rowHeader: true }, { label: "Encaissements", num: true }, { label: "Chèques", num: true }, { label: "Montant", num: true }],
      f.venues.map((v) => [v.name, group(v.redemptions), group(v.vouchers), euros(v.cents)]), { id: "venues" }));
  } else {
    parts.push(el("p", null, "Aucun lieu n'a encore encaissé de chèque."));
  }

  parts.push(el("h2", null, "Par commande"));
  if (f.batches.length) {
    parts.push(el("figure", { class: "chart" }, el("figcaption", null, "Où en est la valeur de chaque commande"),
      legend(), batchChart(f.batches)));
    parts.push(table("Chiffres par commande",
      [{ label: "Commande", rowHeader: true }, { label: "Étape" }, { label: "Chèques émis", num: true }, { label: "Émis", num: true },
        { label: "Encaissé", num: true }, { label: "Encore utilisable", num: true }, { label: "Annulé", num: true },
        { label: "Expiré", num: true }, { label: "Contrôle" }],
      f.batches.map((b) => [`n° ${b.id} (${b.department})`, stages[b.stage] || b.stage, group(b.vouchers_issued),
        euros(b.issued_cents), euros(b.redeemed_cents), euros(b.outstanding_cents), euros(b.voided_cents),
        euros(b.expired_cents), b.invariant_holds ? "juste" : "écart"]), { id: "batches" }));
  } else {
    parts.push(el("p", null, "Aucune commande pour l'instant."));
  }

  // The distribution structures' funnel: received, then what became of
  // it; the same per commune and per month of reception.
  const funnelColumns = (first, second) => [{ label: first, rowHeader: true }, ...(second ? [{ label: second }] : []),
    { label: "Reçus", num: true }, { label: "En stock", num: true }, { label: "Remis", num: true }, { label: "Commencés", num: true },
    { label: "Terminés", num: true }, { label: "Expirés sans usage", num: true }, { label: "Annulés", num: true },
    { label: "Remise non suivie", num: true }];
  const funnelCells = (x) => [group(x.received), group(x.in_stock), group(x.handed_over), group(x.started), group(x.finished),
    group(x.expired_unused), group(x.voided), group(x.untracked)];
  if (f.structures.length) {
    parts.push(el("h2", null, "Par structure de distribution"));
    parts.push(table("Chéquiers reçus par chaque structure, et ce qu'ils sont devenus", funnelColumns("Structure", "Commune"),
      f.structures.map((s) => [`${s.name} (${s.department})`, s.commune, ...funnelCells(s)]), { id: "structures" }, true));
    parts.push(el("h2", null, "Par commune"));
    parts.push(table("Chéquiers reçus par les structures de chaque commune", funnelColumns("Commune", "Structures"),
      f.communes.map((c) => [`${c.commune} (${c.department})`, group(c.structures), ...funnelCells(c)]), { id: "communes" }, true));
    parts.push(el("h2", null, "Par mois de réception"));
    parts.push(table("Chéquiers reçus par les structures chaque mois, et ce qu'ils sont devenus depuis", funnelColumns("Mois"),
      f.funnel_months.map((m) => [month(m.month), ...funnelCells(m)]), { id: "funnel-months" }, true));
  }

  if (f.departments.length > 1) {
    parts.push(el("h2", null, "Par département"));
    parts.push(table("Chiffres par département",
      [{ label: "Département", rowHeader: true }, { label: "Chèques émis", num: true }, { label: "Émis", num: true },
        { label: "Encaissé", num: true }, { label: "Non utilisé", num: true }, { label: "Contrôle" }],
      f.departments.map((d) => [`${d.name} (${d.code})`, group(d.vouchers_issued), euros(d.issued_cents),
        euros(d.redeemed_cents || 0), euros(d.unused_cents), d.invariant_holds ? "juste" : "écart"])));
  }

  parts.push(el("h2", null, "Remboursements clôturés"));
  if (f.settlements.length) {
    parts.push(table("Mois clôturés",
      [{ label: "Mois", rowHeader: true }, { label: "Département" }, { label: "Lieux", num: true }, { label: "Encaissé", num: true },
        { label: "Annulé", num: true }, { label: "Ajustements", num: true }, { label: "Commission", num: true }, { label: "Net payé", num: true },
        { label: "Fichiers" }],
      f.settlements.map((s) => {
        const base = `/api/v1/settlement/${s.department}/${s.month}`;
        return [month(s.month), s.department, group(s.venues), euros(s.gross_cents), euros(s.reversed_cents),
          euros(s.adjustment_cents), euros(s.commission_cents), euros(s.net_cents),
          [fetchDownload(`${base}/statements.csv`, ["CSV", hidden(` des relevés, ${month(s.month)}, ${s.department}`)]), " ",
            fetchDownload(`${base}/sepa.xml`, ["SEPA", hidden(` des virements, ${month(s.month)}, ${s.department}`)])]];
      }), { id: "settlements" }));
  } else {
    parts.push(el("p", null, "Aucun mois clôturé pour l'instant."));
  }
  board.replaceChildren(...parts);
}

// The auditors' signals (GET /api/v1/signals) of the 30 days up to the
// date chosen, each rule and its evidence as the server says them.

async function signals(asOfDay) {
  const q = new URLSearchParams();
  if (deptSelect.value) q.set("department", deptSelect.value);
  const to = new Date(`${asOfDay}T12:00:00Z`);
  const from = new Date(to);
  from.setUTCDate(from.getUTCDate() - 29);
  q.set("from", from.toISOString().slice(0, 10));
  q.set("to", asOfDay);
  const s = await api("GET", "/api/v1/signals?" + q.toString());
  document.getElementById("signals").replaceChildren(s.signals.length === 0 ?
    el("p", null, `Aucun signal du ${day(s.from)} au ${day(s.to)}.`) :
    table(`Signaux du ${day(s.from)} au ${day(s.to)}`, [{ label: "Signal" }, { label: "Lieu" }, { label: "Le" }, { label: "Ce qui a été vu" }, { label: "Encaissements" }],
      s.signals.map((g) => [g.name, g.venue_name, new Date(g.at).toLocaleDateString("fr-FR", { timeZone: "Europe/Paris" }),
        g.evidence, g.redemptions.join(", ")]), { id: "signals-table" }, true));
}

// The raw figures stay on the element, for whoever checks the page
// against the API.
let shownFigures = null;
let drawnWidth = 0;

async function load() {
  const f = await api("GET", "/api/v1/figures" + query());
  shownFigures = f;
  drawnWidth = chartWidth();
  render(f);
  board.dataset.asOf = f.as_of;
  downloads();
  await signals(f.as_of);
}

submit(document.getElementById("filters"), load);

// A phone turned, a window resized: the charts are drawn again to fit.
addEventListener("resize", () => {
  if (shownFigures && chartWidth() !== drawnWidth) {
    drawnWidth = chartWidth();
    render(shownFigures);
  }
});

try {
  await departmentSelect(deptSelect, session.role !== "department");
  await load();
} catch (err) {
  fail(err);
}
