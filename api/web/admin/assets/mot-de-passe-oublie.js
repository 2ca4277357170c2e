// Asking for a reset link: the answer is the same whether or not an
// account has the address.
import { api, say, submit } from "./common.js";
const form = document.getElementById("forgot");
document.getElementById("email").focus();

submit(form, async (data) => {
  const r = await api("POST", "/password-reset", { email: String(data.get("email") || "").trim() });
  say(r.message, form);
});
