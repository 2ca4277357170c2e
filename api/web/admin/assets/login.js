// The login page: the key is sent once to POST /session, which answers with
// the session cookie; the field is emptied at once and nothing is stored.
import { api, say, submit } from "./common.js";
const form = document.getElementById("login");
const key = document.getElementById("key");
key.focus();

// suite is where to go back to: one of our own pages, nothing else.
function suite(home) {
  const s = new URLSearchParams(location.search).get("suite") || "";
  return /^\/(departement|auditeur)\/[a-z]*$/.test(s) ? s : home;
}

submit(form, async (data) => {
  const secret = String(data.get("key") || "").trim();
  form.reset();
  try {
    const s = await api("POST", "/session", { key: secret });
    say("Connexion réussie : ouverture de la page…", form);
    location.assign(suite(s.home));
  } catch (err) {
    err.field = "key"; // a refused login is always about the key
    throw err;
  }
});
