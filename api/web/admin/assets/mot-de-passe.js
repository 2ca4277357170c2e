// Setting a new password with a reset link (its token is the fragment).
import { api, el, say, submit } from "./common.js";
const form = document.getElementById("reset");
const token = location.hash.slice(1);
history.replaceState(null, "", location.pathname);
document.getElementById("password").focus();

submit(form, async (data) => {
  await api("POST", "/password-reset/new", { token, password: String(data.get("password") || "") });
  form.querySelector("button[type=submit]").hidden = true;
  say("Votre mot de passe est changé. Vous pouvez vous connecter.", form);
  form.append(el("p", {}, el("a", { href: "/connexion" }, "Se connecter")));
});
