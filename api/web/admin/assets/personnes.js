// The people of the organisations one manages: who has which role,
// invitations still open, inviting, taking a role back, disabling an
// account; and, for a département, its distribution structures. Who may
// do what is the API's answer (GET /api/v1/organisations gives the roles
// one may give in each organisation); the page only shows it.
import { api, askInPlace, el, fillChooser, say, fail, submit, table, dateTime, clear } from "./common.js";

const choice = document.getElementById("organisation");
const people = document.getElementById("people");
const pending = document.getElementById("pending");
const inviteForm = document.getElementById("invite");
const roleSelect = document.getElementById("i-role");
const structures = document.getElementById("structures");
const structureForm = document.getElementById("add-structure");

let organisations = [];
let current = null;
// Each choice of organisation bumps shown; an answer for an earlier
// choice that arrives late is dropped, or it would list the people of
// an organisation no longer chosen (the page loads the first one while
// the person is already picking another).
let shown = 0;

async function loadOrganisations(select) {
  organisations = (await api("GET", "/api/v1/organisations")).organisations;
  if (!fillChooser(choice, document.getElementById("org-choice"), document.getElementById("org-one"), organisations, (o) => o.label,
    (o) => `Les personnes de ${o.label}.`, "Vous ne gérez les personnes d’aucune organisation.")) {
    inviteForm.hidden = true;
    return;
  }
  choice.value = String(select || (current && current.id) || organisations[0].id);
  await showOrganisation();
}

async function showOrganisation() {
  const mine = ++shown;
  current = organisations.find((o) => String(o.id) === choice.value) || organisations[0];
  roleSelect.replaceChildren(...current.roles.map((r) => el("option", { value: r.role }, r.label)));
  const list = await api("GET", `/api/v1/people?organisation=${current.id}`);
  if (mine !== shown) return;
  showPeople(list.people);
  pending.replaceChildren(list.invitations.length === 0 ? el("p", null, "Aucune invitation en attente.") :
    el("ul", { class: "plain" }, list.invitations.map((i) => {
      const li = el("li", null, `${i.email}, ${i.role_label} : invitée le ${dateTime(i.created_at)}, le lien marche jusqu’au ${dateTime(i.expires_at)}. `);
      // A mistyped address holds a valid link: cancel it.
      li.append(el("button", { type: "button", class: "secondary", "aria-label": `Annuler l’invitation de ${i.email}`, onclick: async () => {
        try {
          await api("POST", `/api/v1/invitations/${i.id}/cancellation`);
          await showOrganisation();
          say(`L’invitation de ${i.email} est annulée : son lien ne marche plus.`, pending);
        } catch (err) {
          fail(err, li);
        }
      } }, "Annuler l’invitation"));
      return li;
    })));
  await showStructures(mine);
}

function showPeople(rows) {
  if (rows.length === 0) {
    people.replaceChildren(el("p", null, "Personne n’a encore de rôle ici : invitez quelqu’un ci-dessous."));
    return;
  }
  people.replaceChildren(table(`Personnes de ${current.label}`,
    [{ label: "Adresse e-mail" }, { label: "Rôle" }, { label: "Second facteur" }, { label: "État" }, { label: "Actions" }],
    rows.map((p) => [
      p.you ? `${p.email} (vous)` : p.email,
      p.role_label,
      p.totp ? "oui" : "non",
      p.disabled_at ? `désactivé le ${dateTime(p.disabled_at)}` : "actif",
      p.you ? "" : actions(p),
    ]), { id: "people-table" }, true));
}

// actions are a person's buttons; each asks to confirm in place, where
// the focus goes, before anything changes.
function actions(p) {
  const cell = el("div", { class: "row-actions" });
  const ask = (question, yes, work) => askInPlace(cell, question, yes, work, reset);
  const reset = () => {
    const take = el("button", { type: "button", class: "secondary", onclick: () => ask(
      `Retirer le rôle « ${p.role_label} » à ${p.email} ? Ses sessions le perdent tout de suite.`, "Oui, retirer le rôle",
      async () => {
        await api("POST", `/api/v1/accounts/${p.account}/role-removal`, { role: p.role, organisation: current.id });
        await showOrganisation();
        say(`Le rôle « ${p.role_label} » est retiré à ${p.email}.`, people);
      }) }, "Retirer ce rôle");
    const buttons = [take];
    if (!p.disabled_at) {
      buttons.push(el("button", { type: "button", class: "danger", onclick: () => ask(
        `Désactiver le compte de ${p.email} ? La personne ne pourra plus se connecter, dans aucune organisation.`, "Oui, désactiver",
        async () => {
          await api("POST", `/api/v1/accounts/${p.account}/disable`);
          await showOrganisation();
          say(`Le compte de ${p.email} est désactivé : ses sessions sont fermées.`, people);
        }) }, "Désactiver le compte"));
    }
    cell.replaceChildren(el("div", { class: "actions" }, buttons));
  };
  reset();
  return cell;
}

async function showStructures(mine) {
  const department = current.kind === "department" && current.roles.some((r) => r.role === "department_manager");
  structures.hidden = !department;
  if (!department) return;
  const list = (await api("GET", `/api/v1/structures?department=${encodeURIComponent(current.department)}`)).structures;
  if (mine !== shown) return;
  document.getElementById("structure-list").replaceChildren(list.length === 0 ?
    el("p", null, "Le département n’a pas encore de structure de distribution.") :
    table("Structures du département", [{ label: "Nom" }, { label: "Type" }, { label: "Commune" }],
      list.map((s) => [s.name, s.type_label, s.commune]), { id: "structures-table" }, true));
}

choice.addEventListener("change", () => { clear(); showOrganisation().catch((err) => fail(err, choice.parentElement)); });

submit(inviteForm, async (data) => {
  const email = String(data.get("email")).trim();
  const inv = await api("POST", "/api/v1/invitations", { email, role: String(data.get("role")), organisation: current.id });
  inviteForm.reset();
  await showOrganisation();
  say(`Invitation envoyée à ${inv.email} (${inv.role_label}). Le lien marche jusqu’au ${dateTime(inv.expires_at)}.`, inviteForm);
});

submit(structureForm, async (data) => {
  const s = await api("POST", "/api/v1/structures", {
    department: current.department, name: String(data.get("name")).trim(), type: String(data.get("type")),
    commune: String(data.get("commune")).trim(), address: String(data.get("address")).trim(),
  });
  structureForm.reset();
  await loadOrganisations(current.id);
  say(`${s.name} est ajoutée. Pour inviter ses agents, choisissez-la en haut de la page.`, structureForm);
});

loadOrganisations().catch((err) => fail(err));
