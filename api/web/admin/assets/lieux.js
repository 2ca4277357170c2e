// Venues: the list with their label, a status change with its reason, and
// a new venue with its SIRET and IBAN.
import { api, el, day, venueStatuses, badge, say, fail, submit, table, departments } from "./common.js";
let venues = [];

// What each status allows, as the API's routes name it.
const actions = {
  labelled: [["suspension", "Suspendre"], ["label", "Renouveler le label"], ["unlabelling", "Retirer le label"]],
  suspended: [["reinstatement", "Réintégrer"], ["unlabelling", "Retirer le label"]],
  unlabelled: [["label", "Labelliser à nouveau"]],
};

const venueSelect = document.getElementById("s-venue");
const actionSelect = document.getElementById("s-action");
const untilField = document.getElementById("s-until-field");

async function all() {
  const out = [];
  let after = 0;
  for (;;) {
    const page = await api("GET", `/api/v1/venues?limit=1000&after=${after}`);
    out.push(...page.venues);
    if (!page.next) return out;
    after = page.next;
  }
}

function render() {
  const box = document.getElementById("venues");
  if (venues.length === 0) {
    box.replaceChildren(el("p", null, "Aucun lieu pour l'instant."));
  } else {
    box.replaceChildren(table("Lieux et leur label",
      [{ label: "Lieu", rowHeader: true }, { label: "SIRET" }, { label: "Statut" }, { label: "Label par département" },
        { label: "Label jusqu'au" }, { label: "Action" }],
      venues.map((v) => [
        v.name,
        v.siret || "",
        el("span", { "data-venue-status": v.id }, badge(v.status, venueStatuses)),
        // Each département has its own label; the status is the session's own.
        v.labels.map((l) => `${l.department} : ${venueStatuses[l.status] || l.status}`).join(", "),
        v.label_expires_on ? day(v.label_expires_on) : "sans fin",
        el("button", { type: "button", class: "secondary", "data-venue": v.id, "aria-label": `Changer le statut de ${v.name}` },
          "Changer le statut"),
      ]), { id: "venue-table" }, true));
    box.querySelectorAll("button[data-venue]").forEach((b) => b.addEventListener("click", () => {
      venueSelect.value = b.dataset.venue;
      fillActions();
      document.getElementById("status-title").scrollIntoView();
      actionSelect.focus();
    }));
  }
  const current = venueSelect.value;
  venueSelect.replaceChildren(...venues.map((v) =>
    el("option", { value: v.id }, `${v.name} (${venueStatuses[v.status] || v.status})`)));
  if (current) venueSelect.value = current;
  fillActions();
}

function fillActions() {
  const v = venues.find((x) => String(x.id) === venueSelect.value);
  actionSelect.replaceChildren(...(v ? actions[v.status] || [] : []).map(([value, label]) =>
    el("option", { value }, label)));
  untilField.hidden = actionSelect.value !== "label";
}
venueSelect.addEventListener("change", fillActions);
actionSelect.addEventListener("change", () => { untilField.hidden = actionSelect.value !== "label"; });

const statusForm = document.getElementById("venue-status");
submit(statusForm, async (data) => {
  const id = venueSelect.value;
  const action = actionSelect.value;
  const body = { reason: String(data.get("reason")).trim() };
  if (action === "label" && data.get("until")) body.until = String(data.get("until"));
  const v = await api("POST", `/api/v1/venues/${id}/${action}`, body);
  venues = venues.map((x) => (x.id === v.id ? v : x));
  statusForm.reset();
  venueSelect.value = String(v.id);
  render();
  say(`${v.name} : ${venueStatuses[v.status] || v.status}.`, statusForm);
});

const newForm = document.getElementById("new-venue");
submit(newForm, async (data) => {
  const labelledFor = [...document.querySelectorAll("#v-departments input:checked")].map((i) => i.value);
  if (labelledFor.length === 0) throw new Error("Cochez au moins un département pour lequel le lieu est labellisé.");
  const body = { name: String(data.get("name")).trim(), siret: String(data.get("siret")), iban: String(data.get("iban")), departments: labelledFor };
  for (const k of ["address", "bic", "contact", "label_until", "reason"]) {
    const v = String(data.get(k) || "").trim();
    if (v) body[k] = v;
  }
  const v = await api("POST", "/api/v1/venues", body);
  newForm.reset();
  await departmentBoxes();
  venues.push(v);
  render();
  say(`${v.name} est labellisé (lieu n° ${v.id}). Il pourra encaisser des chèques dès que son appareil de scan sera appairé.`, newForm);
});

async function departmentBoxes() {
  const ds = await departments();
  const box = document.getElementById("v-departments");
  box.replaceChildren(el("legend", null, "Labellisé pour les départements"), ...ds.map((d) => el("div", { class: "check" },
    el("input", { type: "checkbox", id: `v-dep-${d.code}`, value: d.code, checked: ds.length === 1 }),
    el("label", { for: `v-dep-${d.code}` }, `${d.name} (${d.code})`))));
}

try {
  await departmentBoxes();
  venues = await all();
  render();
  // From the home page's lockout notice: the venue, ready to act on.
  const target = (location.hash.match(/^#lieu-(\d+)$/) || [])[1];
  if (target && venues.some((v) => String(v.id) === target)) {
    venueSelect.value = target;
    fillActions();
    document.getElementById("status-title").scrollIntoView();
  }
} catch (err) {
  fail(err);
}
