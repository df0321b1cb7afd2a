import { $, api, safeNext, showError } from "/app/api.js";

const next = safeNext(new URLSearchParams(location.search).get("next"));

async function login() {
  await api("/auth/session", { method: "POST", json: { email: $("email").value.trim(), password: $("password").value }, context: "login" });
  location.href = next;
}

function failed(err) {
  showError($("error"), err);
  $("password").value = "";  // the email stays: only the password is typed again
  $("password").focus();
}

$("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  showError($("error"), null);
  try { await login(); } catch (err) { failed(err); }
});

$("register-button").addEventListener("click", async () => {
  showError($("error"), null);
  if (!$("login").reportValidity()) return;
  const email = $("email").value.trim();
  try {
    await api("/auth/register", { method: "POST", json: { email, password: $("password").value, display_name: email.split("@")[0] } });
  } catch (err) { showError($("error"), err); return; }
  try { await login(); } catch {
    // registering answers the same for a new and a known address (no one can probe who has an account)
    failed(new Error("If this email already has an account, log in with its password. Otherwise, please try again."));
  }
});
