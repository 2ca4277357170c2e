// The login page: with an account (email, password, then the second
// factor's code when the server asks for it), through the identity
// provider when one is configured, or with an API key. What is typed goes
// once to POST /session, which answers with the session cookie; nothing
// is stored in the browser.
import { api, say, fail, submit } from "./common.js";
const form = document.getElementById("login");
const keyForm = document.getElementById("key-login");
const totpField = document.getElementById("totp-field");
const ssoForm = document.getElementById("sso");
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

// Through the identity provider: the button sends the browser there
// (POST /session/sso keeps the login's secrets server-side), and the
// provider sends it back to /connexion/sso with its answer in the address,
// which goes to POST /session as it is: the server says what it proves.
// A second factor's code is then asked for in this form.
if (ssoForm) {
  const provider = ssoForm.dataset.provider;
  const codeField = document.getElementById("sso-totp-field");
  const back = new URLSearchParams(location.search);
  const returned = location.pathname === "/connexion/sso" &&
    (back.has("code") || back.has("error")) ? { code: back.get("code") || "", state: back.get("state") || "", error: back.get("error") || "" } : null;
  // The provider's code leaves the address bar (and the history) at once.
  if (returned) history.replaceState(null, "", "/connexion");
  let waiting = false; // the identity is proved; the code is to type

  const finish = async (body) => {
    try {
      enter(await api("POST", "/session", body), ssoForm);
    } catch (err) {
      // The identity is proved while the code is asked for (or the lock
      // waits it out); anything else ends this login: the button starts
      // a new one.
      waiting = ["totp_required", "totp_invalid", "login_locked"].includes(err.code);
      codeField.hidden = !waiting;
      document.getElementById("sso-button").textContent = waiting ? "Valider le code" : `Se connecter avec ${provider}`;
      if (waiting) ssoForm.elements.namedItem("totp").value = "";
      throw err;
    }
  };

  submit(ssoForm, async (data) => {
    if (waiting) {
      await finish({ sso: {}, totp: String(data.get("totp") || "").trim() });
      return;
    }
    say(`Ouverture de la page de connexion de ${provider}…`, ssoForm);
    const { url } = await api("POST", "/session/sso", {});
    location.assign(url);
  });

  if (returned) {
    say(`Retour de ${provider} : vérification…`, ssoForm);
    finish({ sso: returned }).catch((err) => fail(err, ssoForm));
  }
}
