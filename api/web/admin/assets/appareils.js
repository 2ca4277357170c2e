// A venue's devices: associate one (the code is shown here for the
// device's camera), see them with their last use, dissociate one or all,
// cancel codes not used yet; and the venue's archive, its own proof of
// what it is owed. Who may do it for which venues is the API's
// rule (apikeys.mayManage); the page only shows what it answers.
import { api, askInPlace, clear, dateTime, drawQR, el, fail, fetchDownload, fillChooser, say, submit, table } from "./common.js";

const choice = document.getElementById("venue");
const pairForm = document.getElementById("pair");
const devices = document.getElementById("devices");
const pending = document.getElementById("pending");
const allActions = document.getElementById("all-actions");
const codeBox = document.getElementById("code");

let venue = null; // {id, name}
let shown = 0; // see personnes.js: a late answer for another venue is dropped

async function loadVenues() {
  const s = await api("GET", "/session");
  let venues;
  if (s.venue) {
    venues = [await api("GET", `/api/v1/venues/${s.venue}`)];
  } else {
    venues = (await api("GET", "/api/v1/venues")).venues;
  }
  if (!fillChooser(choice, document.getElementById("venue-choice"), document.getElementById("venue-one"), venues, (v) => v.name,
    (v) => `Les appareils de ${v.name}.`, "Aucun lieu n’est labellisé pour votre département.")) {
    pairForm.hidden = true;
    return;
  }
  choice.onchange = () => { clear(); codeBox.hidden = true; showVenue(venues).catch((err) => fail(err, choice.parentElement)); };
  await showVenue(venues);
}

async function showVenue(venues) {
  const mine = ++shown;
  const chosen = venues.find((v) => String(v.id) === choice.value) || venues[0];
  const list = await api("GET", `/api/v1/venues/${chosen.id}/devices`);
  if (mine !== shown) return;
  // Only now: until its list is shown, the buttons act on the venue shown.
  venue = chosen;
  const active = list.devices.filter((d) => !d.revoked_at);
  devices.replaceChildren(list.devices.length === 0 ? el("p", null, "Aucun appareil n’est associé à ce lieu.") :
    table(`Appareils de ${venue.name}`, [{ label: "Nom" }, { label: "Associé le" }, { label: "Dernière utilisation" }, { label: "Paniers pas encore envoyés" },
      { label: "Version" }, { label: "État" }, { label: "Actions" }],
      list.devices.map((d) => [d.name, dateTime(d.paired_at), d.last_used_at ? dateTime(d.last_used_at) : "jamais", waiting(d),
        d.app_version || "inconnue", d.revoked_at ? `dissocié le ${dateTime(d.revoked_at)}` : "associé", d.revoked_at ? "" : dissociate(d)]),
      { id: "devices-table" }, true));
  pending.replaceChildren(list.pending.length === 0 ? el("p", null, "Aucun code en attente.") :
    el("ul", { class: "plain" }, list.pending.map((p) => el("li", null, `« ${p.name} » : code fait le ${dateTime(p.created_at)}, valable jusqu’au ${dateTime(p.expires_at)}.`))));
  const buttons = [];
  if (list.pending.length) buttons.push(el("button", { type: "button", class: "secondary", onclick: () => askAll(true) }, "Annuler les codes en attente"));
  if (active.length) buttons.push(el("button", { type: "button", class: "danger", onclick: () => askAll(false) }, "Dissocier tous les appareils"));
  allActions.replaceChildren(...buttons);
  document.getElementById("archive-link").replaceChildren(fetchDownload(`/api/v1/venues/${venue.id}/archive`, `Télécharger le dossier de ${venue.name}`));
}

// waiting says how many baskets the device said it holds offline, and
// when it said so: a device that stays offline keeps them (and their
// money) until it is connected again.
function waiting(d) {
  if (d.pending_baskets === undefined) return "inconnu";
  const n = d.pending_baskets === 0 ? "aucun" : d.pending_baskets === 1 ? "1 panier" : `${d.pending_baskets} paniers`;
  return `${n} (le ${dateTime(d.reported_at)})`;
}

// dissociate is a device's button, confirmed in place.
function dissociate(d) {
  const cell = el("div", { class: "row-actions" });
  const reset = () => cell.replaceChildren(el("button", { type: "button", class: "danger", onclick: () => askInPlace(cell,
    `Dissocier « ${d.name} » ? Il ne pourra plus encaisser de chèques ; pour le réutiliser, il faudra l’associer à nouveau.`, "Oui, dissocier",
    async () => {
      await api("POST", `/api/v1/venues/${venue.id}/devices/${encodeURIComponent(d.prefix)}/revocation`);
      await showVenue([venue]);
      say(`« ${d.name} » est dissocié : il ne peut plus encaisser.`, devices);
    }, reset) }, "Dissocier"));
  reset();
  return cell;
}

function askAll(codesOnly) {
  const back = () => showVenue([venue]).catch((err) => fail(err, allActions));
  askInPlace(allActions, codesOnly ? "Annuler les codes pas encore utilisés ? Ils ne pourront plus associer d’appareil." :
    `Dissocier tous les appareils de ${venue.name} ? Aucun ne pourra plus encaisser avant d’être associé à nouveau.`,
  codesOnly ? "Oui, annuler les codes" : "Oui, tout dissocier", async () => {
    const u = await api("POST", `/api/v1/venues/${venue.id}/devices/revocation`, { codes_only: codesOnly });
    codeBox.hidden = true;
    await showVenue([venue]);
    say(codesOnly ? counted(u.pairings, "Aucun code n’était en attente.", "Le code est annulé : il ne sert plus.", "codes sont annulés : ils ne servent plus.") :
      counted(u.devices, "Aucun appareil n’était associé.", "L’appareil est dissocié.", "appareils sont dissociés.") +
      (u.pairings ? " Les codes en attente sont annulés." : ""), devices);
  }, back);
}

// counted says what happened to n things: none, one, or n.
function counted(n, none, one, many) {
  return n === 0 ? none : n === 1 ? one : `${n} ${many}`;
}

submit(pairForm, async (data) => {
  const name = String(data.get("name") || "").trim();
  const p = await api("POST", "/api/v1/pairings", { venue_id: venue.id, name });
  pairForm.reset();
  document.getElementById("code-url").textContent = `${location.origin}/scanner/`;
  document.getElementById("code-qr").replaceChildren(drawQR(p.qr, `Code d’association de « ${name} »`));
  document.getElementById("code-until").textContent = `Ce code marche une seule fois, jusqu’au ${dateTime(p.expires_at)}.`;
  document.getElementById("code-text").textContent = p.code;
  codeBox.hidden = false;
  await showVenue([venue]);
  say(`Code prêt pour « ${name} » : scannez-le avec l’appareil, ci-dessous.`, pairForm);
});

loadVenues().catch((err) => fail(err));
