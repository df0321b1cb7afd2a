import { api, requireLogin, showError } from "/app/api.js";
await requireLogin();
const $ = (id) => document.getElementById(id);
const upload = (path, file) => { const form = new FormData(); form.append("file", file); return api(path, { method: "POST", form }); };
$("create").addEventListener("submit", async (e) => {
  e.preventDefault(); showError($("error"), null);
  let avatar;
  try {
    $("progress").textContent = "Creating…";
    avatar = await api("/avatars", { method: "POST", json: {
      name: $("name").value, relationship: $("relationship").value, user_name: $("user-name").value,
      consent: $("consent").checked, consent_statement: $("consent-text").textContent } });
    $("progress").textContent = "Checking the photo…";
    await upload(`/avatars/${avatar.id}/photos`, $("photo").files[0]);
    for (const file of $("voice").files) { $("progress").textContent = `Adding ${file.name}…`; await upload(`/avatars/${avatar.id}/voice-samples`, file); }
    await api(`/avatars/${avatar.id}/personality`, { method: "PUT", json: { personality: $("personality").value, speaking_style: $("style").value } });
    for (const text of $("memories").value.split("\n").map((s) => s.trim()).filter(Boolean)) {
      await api(`/avatars/${avatar.id}/memories`, { method: "POST", json: { text } });
    }
    location.href = "/app/avatars.html";
  } catch (err) {
    $("progress").textContent = avatar ? `Created ${avatar.name}, but not everything was saved.` : "";
    showError($("error"), err);
  }
});
