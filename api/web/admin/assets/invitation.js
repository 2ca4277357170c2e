// Accepting an invitation: the token is the link's fragment, which no
// server has seen; the password typed opens the account, then logs in.
import { api, say, submit } from "./common.js";
const form = document.getElementById("accept");
const token = location.hash.slice(1);
// The token leaves the address bar (and the history) at once.
history.replaceState(null, "", location.pathname);
document.getElementById("password").focus();

// Through the identity provider: the login page takes over on the way back.
const ssoForm = document.getElementById("accept-sso");
if (ssoForm) {
  submit(ssoForm, async () => {
    // Reloaded, the page has lost the link's token (it left the address
    // bar): without it the provider would log in, not accept.
    if (!token) throw new Error("Le lien de l’invitation n’est plus dans cette page : rouvrez-le depuis l’e-mail reçu.");
    const { url } = await api("POST", "/session/sso", { invitation: token });
    location.assign(url);
  });
}

submit(form, async (data) => {
  const password = String(data.get("password") || "");
  const done = await api("POST", "/invitation", { token, password });
  try {
    const s = await api("POST", "/session", { email: done.email, password });
    say("Votre compte est prêt : ouverture de votre page…", form);
    location.assign(s.enrol_totp ? "/compte" : s.home);
  } catch (err) {
    // A second factor already set up asks for its code: the login page does.
    say("Votre compte est prêt. Connectez-vous avec votre adresse e-mail et votre mot de passe.", form);
    setTimeout(() => location.assign("/connexion"), 1500);
  }
});
