// The login page: with an account (email, password, then the second
// factor's code when the server asks for it) or with an API key. What is
// typed goes once to POST /session, which answers with the session cookie;
// nothing is stored in the browser.
import { api, say, submit } from "./common.js";
const form = document.getElementById("login");
const keyForm = document.getElementById("key-login");
const totpField = document.getElementById("totp-field");
document.getElementById("email").focus();

// suite is where to go back to: one of our own pages, nothing else.
function suite(home) {
  const s = new URLSearchParams(location.search).get("suite") || "";
  return /^\/(departement|auditeur)\/[a-z]*$|^\/compte$/.test(s) ? s : home;
}

function enter(s, near) {
  say("Connexion réussie : ouverture de la page…", near);
  location.assign(s.enrol_totp ? "/compte" : suite(s.home));
}

submit(form, async (data) => {
  const body = { email: String(data.get("email") || "").trim(), password: String(data.get("password") || "") };
  if (!totpField.hidden) body.totp = String(data.get("totp") || "").trim();
  try {
    enter(await api("POST", "/session", body), form);
  } catch (err) {
    if (err.code === "totp_required") {
      // The password was right: the code is asked for, in its field.
      totpField.hidden = false;
    }
    if (err.code === "totp_invalid" || err.code === "totp_required") form.elements.namedItem("totp").value = "";
    throw err;
  }
});

submit(keyForm, async (data) => {
  const secret = String(data.get("key") || "").trim();
  keyForm.reset();
  try {
    enter(await api("POST", "/session", { key: secret }), keyForm);
  } catch (err) {
    err.field = "key"; // a refused key login is always about the key
    throw err;
  }
});
