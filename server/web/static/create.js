// Adding someone is one step for the person using it: everything is saved, or, if the photo or a
// recording cannot be used, nothing is (the half-made person is removed) and the form keeps what
// was typed so only the file needs choosing again.
import { $, api, requireLogin, showError, upload } from "/app/api.js";

await requireLogin();

async function create() {
  const photo = $("photo").files[0];
  const avatar = await api("/avatars", { method: "POST", json: {
    name: $("name").value.trim(), relationship: $("relationship").value.trim(), user_name: $("user-name").value.trim(),
    consent: $("consent").checked, consent_statement: $("consent-text").textContent } });
  try {
    $("progress").textContent = "Looking at the photo…";
    await upload(`/avatars/${avatar.id}/photos`, photo);
    const voices = [...$("voice").files];
    for (const [i, file] of voices.entries()) {
      $("progress").textContent = `Adding recording ${i + 1} of ${voices.length}…`;
      await upload(`/avatars/${avatar.id}/voice-samples`, file);
    }
    $("progress").textContent = "Saving what you wrote…";
    await api(`/avatars/${avatar.id}/personality`, { method: "PUT", json: { personality: $("personality").value, speaking_style: $("style").value } });
    for (const text of $("memories").value.split("\n").map((s) => s.trim()).filter(Boolean)) {
      await api(`/avatars/${avatar.id}/memories`, { method: "POST", json: { text } });
    }
  } catch (err) {
    await api(`/avatars/${avatar.id}`, { method: "DELETE" }).catch(() => {});
    throw err;
  }
  return avatar;
}

$("create").addEventListener("submit", async (e) => {
  e.preventDefault();
  showError($("error"), null);
  $("create-button").disabled = true;
  try {
    const avatar = await create();
    location.href = `/app/person.html?avatar=${avatar.id}&created=1`;
  } catch (err) {
    $("progress").textContent = "";
    showError($("error"), new Error(`Nothing was saved. ${err.message}`));
  } finally {
    $("create-button").disabled = false;
  }
});
