import { api, safeNext, showError } from "/app/api.js";
const $ = (id) => document.getElementById(id);
const next = safeNext(new URLSearchParams(location.search).get("next"));
async function login() {
  await api("/auth/session", { method: "POST", json: { email: $("email").value, password: $("password").value } });
  location.href = next;
}
$("login").addEventListener("submit", async (e) => { e.preventDefault(); try { await login(); } catch (err) { showError($("error"), err); } });
$("register-button").addEventListener("click", async () => {
  try {
    await api("/auth/register", { method: "POST", json: { email: $("email").value, password: $("password").value, display_name: $("email").value.split("@")[0] } });
    await login();
  } catch (err) { showError($("error"), err); }
});
