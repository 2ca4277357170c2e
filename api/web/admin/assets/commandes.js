// Batches: order one, follow each (timeline stage, chéquiers by status) and
// download its PDF files for the print shop, part by part.
import { api, el, group, euros, price, plural, parseEuros, day, stages, badge, say, fail, invalid, submit, departments, departmentSelect, download } from "./common.js";
const list = document.getElementById("batches");
const form = document.getElementById("new-batch");

const steps = [
  ["running", "Commande", (b) => b.valid_from],
  ["ending", "Alerte de fin", (b) => b.timeline.warning_from],
  ["distribution_stopped", "Arrêt des remises", (b) => b.timeline.distribution_stops_on],
  ["grace", "Fin du programme", (b) => b.timeline.programme_end],
  ["expired", "Fin de validité des chèques", (b) => b.timeline.valid_until],
];

function timeline(b) {
  const current = steps.findIndex(([stage]) => stage === b.timeline.stage);
  return el("ol", { class: "timeline", "aria-label": "Calendrier de la commande" }, steps.map(([, label, when], i) =>
    el("li", { class: i < current ? "done" : null, "aria-current": i === current ? "step" : null },
      el("span", null, label), el("br"), el("span", null, (i === current ? "étape actuelle depuis le " : "") + day(when(b))))));
}

async function files(b, box, layout) {
  const f = await api("GET", `/api/v1/batches/${b.id}/files?layout=${layout}`);
  const n = f.files.length;
  box.replaceChildren(el("ul", { class: "plain" }, f.files.map((x, i) => el("li", null,
    download(x.url, n === 1 ? "Télécharger le fichier PDF" : `Télécharger la partie ${i + 1} sur ${n} (PDF)`, x.name),
    ` — chéquiers ${x.first_chequier} à ${x.last_chequier} (${group(x.vouchers)} ${plural(x.vouchers, "chèque", "chèques")}, ${euros(x.total_cents)})`))));
}

async function details(b, box) {
  const d = await api("GET", `/api/v1/batches/${b.id}`);
  const counts = d.chequiers_by_status;
  const layoutId = `layout-${b.id}`;
  const filesBox = el("div", { "aria-live": "polite" }, el("p", null, "Chargement des fichiers…"));
  const layout = el("select", { id: layoutId },
    el("option", { value: "a4" }, "A4 : dix chèques par feuille, traits de coupe"),
    el("option", { value: "booklet" }, "Carnet : un chèque par page A6, quatre par feuille"));
  layout.addEventListener("change", () => files(b, filesBox, layout.value).catch(fail));
  box.replaceChildren(
    el("h4", null, `Calendrier : ${stages[d.timeline.stage] || d.timeline.stage}`),
    timeline(d),
    el("h4", null, "Chéquiers"),
    el("dl", { class: "figures" },
      el("div", null, el("dt", null, "Imprimés, pas encore remis"), el("dd", { "data-count": "issued" }, group(counts.issued))),
      el("div", null, el("dt", null, "Remis"), el("dd", { "data-count": "active" }, group(counts.active))),
      el("div", null, el("dt", null, "Annulés"), el("dd", { "data-count": "void" }, group(counts.void)))),
    el("h4", null, "Fichiers pour l'imprimeur"),
    el("p", { class: "hint" }, "Les fichiers contiennent des chèques valables : gardez-les comme des billets. " +
      "Une grosse commande est découpée en plusieurs fichiers de 500 chéquiers au plus, à envoyer ensemble."),
    el("div", { class: "field narrow" }, el("label", { for: layoutId }, "Mise en page"), layout),
    filesBox);
  await files(b, filesBox, "a4");
}

function card(b, name) {
  const boxId = `suivi-${b.id}`;
  const box = el("div", { id: boxId, hidden: true });
  const toggle = el("button", { type: "button", class: "secondary", "aria-expanded": "false", "aria-controls": boxId },
    "Suivi et fichiers");
  toggle.addEventListener("click", async () => {
    const open = toggle.getAttribute("aria-expanded") === "true";
    toggle.setAttribute("aria-expanded", String(!open));
    box.hidden = open;
    if (!open && !box.dataset.loaded) {
      box.replaceChildren(el("p", null, "Chargement…"));
      try {
        await details(b, box);
        box.dataset.loaded = "1";
      } catch (err) {
        box.replaceChildren();
        fail(err, toggle.parentElement);
      }
    }
  });
  return el("article", { class: "card", id: `commande-${b.id}`, "aria-labelledby": `titre-${b.id}` },
    el("h3", { id: `titre-${b.id}`, tabindex: "-1" }, `Commande n° ${b.id} — ${name}`),
    el("p", null,
      `${group(b.chequiers)} chéquiers de ${b.vouchers_per_chequier} chèques de ${euros(b.face_value_cents)}, `,
      `soit ${euros(b.total_cents)}. Chéquiers ${b.first_chequier} à ${b.last_chequier}. `,
      `Fin du programme le ${day(b.programme_end)}, chèques valables jusqu'au ${day(b.valid_until)}. Étape : `,
      badge(b.stage, stages), "."),
    el("div", { class: "actions" }, toggle),
    box);
}

async function load(open) {
  const [bs, ds] = await Promise.all([api("GET", "/api/v1/batches"), departments()]);
  const names = Object.fromEntries(ds.map((d) => [d.code, `${d.name} (${d.code})`]));
  if (bs.batches.length === 0) {
    list.replaceChildren(el("p", null, "Aucune commande pour l'instant."));
    return;
  }
  list.replaceChildren(...bs.batches.map((b) => card(b, names[b.department] || b.department)));
  const target = open || Number((location.hash.match(/^#commande-(\d+)$/) || [])[1]);
  if (target) {
    const art = document.getElementById(`commande-${target}`);
    if (art) {
      art.querySelector("button[aria-expanded]").click();
      art.querySelector("h3").focus();
    }
  }
}

// Ordering is two steps, as voiding is: the order is read back in words,
// with the cover its chéquiers will have, then confirmed. Changing any
// field takes the recap away, so that what is confirmed is what was read;
// Enter in a field presses the first button, which only reads it back.
const recap = document.getElementById("b-recap");
const order = document.getElementById("b-order");
const confirm = document.getElementById("b-confirm");

function hideRecap() {
  recap.hidden = true;
  order.hidden = false;
}
form.addEventListener("input", hideRecap);
form.addEventListener("change", hideRecap);
document.getElementById("b-edit").addEventListener("click", () => {
  hideRecap();
  document.getElementById("b-chequiers").focus();
});

// request reads the form into the API's order, or refuses a field.
function request(data) {
  const cents = parseEuros(String(data.get("value")));
  if (!Number.isFinite(cents) || cents <= 0) {
    throw invalid("value", "La valeur d’un chèque doit être un montant en euros, par exemple 10,00.");
  }
  const body = {
    department: document.getElementById("b-department").value,
    chequiers: Number(data.get("chequiers")),
    vouchers_per_chequier: Number(data.get("vouchers")),
    face_value_cents: cents,
    programme_end: String(data.get("programme_end") || ""),
    requires_activation: document.getElementById("b-activation").checked,
  };
  if (!body.programme_end) throw invalid("programme_end", "Indiquez la date de fin du programme.");
  const until = String(data.get("valid_until") || "");
  if (until) body.valid_until = until;
  return body;
}

// cover is what the first page of each chéquier's printed cover will say,
// in the words of printing/pages.go; the activation rule is not for the
// beneficiary: it goes to the person who hands the chéquier over.
function cover(body, name) {
  const n = body.vouchers_per_chequier;
  return [
    el("p", { class: "cover-band" }, el("strong", null, "Pass numérique"), el("br"), name),
    el("p", { class: "cover-title" }, "Votre chéquier"),
    el("p", { class: "cover-count" }, `${n} ${plural(n, "chèque", "chèques")} de ${price(body.face_value_cents)}`),
    el("p", null, `soit ${price(n * body.face_value_cents)} pour apprendre le numérique.`),
    el("p", null, el("strong", null, body.valid_until ? `Valable jusqu’au ${day(body.valid_until)}`
      : `Valable jusqu’à un mois après le ${day(body.programme_end)}`)),
    body.requires_activation ? el("p", { class: "cover-note" },
      "Pour la structure qui le remet : non valable sans activation, scannez son code d’activation au moment de la remise.") : null,
  ];
}

submit(form, async (data, submitter) => {
  const body = request(data);
  const ds = await departments();
  const d = ds.find((x) => x.code === body.department);
  const name = d ? `${d.name} (${d.code})` : body.department;
  if (submitter !== confirm || recap.hidden) {
    const n = body.chequiers, v = body.vouchers_per_chequier;
    document.getElementById("b-recap-text").textContent =
      `Vous allez créer ${group(n)} ${plural(n, "chéquier", "chéquiers")} × ${v} ${plural(v, "chèque", "chèques")} × ` +
      `${price(body.face_value_cents)} = ${price(n * v * body.face_value_cents)} pour le département ${name}.`;
    document.getElementById("b-cover").replaceChildren(...cover(body, name));
    recap.hidden = false;
    order.hidden = true;
    const text = document.getElementById("b-recap-text");
    text.focus({ preventScroll: true });
    recap.scrollIntoView({ block: "nearest" });
    return;
  }
  const b = await api("POST", "/api/v1/batches", body);
  // Emptied, so that a second click cannot order the same batch again.
  form.reset();
  hideRecap();
  await departmentSelect(document.getElementById("b-department"));
  await load(b.id);
  say(`Commande n° ${b.id} enregistrée : ${group(b.chequiers)} ${plural(b.chequiers, "chéquier", "chéquiers")}, ` +
    `${b.first_chequier} à ${b.last_chequier}, pour ${euros(b.total_cents)}. Ses fichiers sont prêts à télécharger.`, form);
});

try {
  await departmentSelect(document.getElementById("b-department"));
  await load();
} catch (err) {
  fail(err);
}
