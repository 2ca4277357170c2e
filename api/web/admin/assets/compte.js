// A person's own page: the second factor (enrolled here when the roles
// need it), the organisations to act for, the open sessions.
import { api, dateTime, drawQR, el, fail, say, submit } from "./common.js";

const status = document.getElementById("sf-status");
const enrol = document.getElementById("sf-enrol");

async function showEnrolment() {
  const e = await api("POST", "/session/totp");
  document.getElementById("sf-secret").textContent = e.secret.replace(/(.{4})/g, "$1 ").trim();
  document.getElementById("sf-qr").replaceChildren(drawQR(e.qr, "Code QR à scanner avec l’application d’authentification"));
  enrol.hidden = false;
}

function organisations(s) {
  const box = document.getElementById("organisations");
  const items = (s.organisations || []).map((o) => {
    const current = o.id === s.organisation;
    const li = el("li", {}, el("strong", {}, o.label), ` : ${o.roles.join(", ")}`);
    if (current) li.append(el("span", { class: "status active" }, "vous agissez pour elle"));
    else if (!s.enrol_totp) {
      li.append(" ", el("button", { type: "button", class: "secondary", onclick: async () => {
        try {
          await api("PUT", "/session/organisation", { organisation: o.id });
          location.assign((await api("GET", "/session")).home);
        } catch (err) {
          fail(err, li);
        }
      } }, `Agir pour ${o.label}`));
    }
    return li;
  });
  box.replaceChildren(items.length ? el("ul", { class: "plain" }, items) : el("p", {}, "Vous n’avez aucun rôle : demandez-en un à un responsable."));
}

async function sessions() {
  const box = document.getElementById("sessions");
  const { sessions: list } = await api("GET", "/sessions");
  box.replaceChildren(el("ul", { class: "plain" }, list.map((o) => {
    const li = el("li", {}, el("strong", {}, o.device), ` — ouverte le ${dateTime(o.created_at)}, jusqu’au ${dateTime(o.expires_at)}`,
      o.organisation ? ` (pour ${o.organisation})` : "");
    if (o.current) li.append(" ", el("span", { class: "status active" }, "cette session"));
    else {
      li.append(" ", el("button", { type: "button", class: "secondary", onclick: async () => {
        try {
          await api("DELETE", `/sessions/${o.id}`);
          say("Session fermée.", li);
          li.querySelector("button").remove();
        } catch (err) {
          fail(err, li);
        }
      } }, "Fermer cette session"));
    }
    return li;
  })));
}

async function load() {
  const s = await api("GET", "/session");
  if (s.enrol_totp) {
    // Said first, where the focus is, before the enrolment loads below it.
    const need = el("p", { class: "error", tabindex: "-1", id: "sf-needed" },
      "Avant de continuer, ajoutez un second facteur : vos rôles le demandent.");
    status.replaceChildren(need);
    need.focus();
    await showEnrolment();
  } else {
    status.replaceChildren(el("p", {}, "Le second facteur protège votre compte : si on vous demande un code que vous n’attendiez pas, prévenez un responsable."));
  }
  organisations(s);
  await sessions();
}

submit(document.getElementById("sf-confirm"), async (data) => {
  const s = await api("POST", "/session/totp/confirm", { totp: String(data.get("totp") || "").trim() });
  say("Le second facteur est activé : ouverture de votre page…", document.getElementById("sf-confirm"));
  location.assign(s.home);
});

load().catch((err) => fail(err));
