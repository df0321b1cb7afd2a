// Removing a person, asked once more in words (shared by the list and the person's page).
import { api, showError } from "/app/api.js";

export function confirmRemoval(container, avatar, done, errorBox) {
  if (container.querySelector(".confirm")) return;
  const box = document.createElement("div");
  box.className = "confirm panel";
  box.setAttribute("role", "alertdialog");
  box.innerHTML = `<p></p><button class="danger yes">Yes, remove</button> <button class="secondary no">Keep</button>`;
  box.querySelector("p").textContent = `Remove ${avatar.name}? Their photos, voice recordings, memories and past calls are deleted for good.`;
  box.querySelector(".no").addEventListener("click", () => box.remove());
  box.querySelector(".yes").addEventListener("click", async () => {
    box.querySelector(".yes").disabled = true;
    try { await api(`/avatars/${avatar.id}`, { method: "DELETE" }); box.remove(); done(); }
    catch (err) { showError(errorBox, err); box.querySelector(".yes").disabled = false; }
  });
  container.append(box);
  box.querySelector(".no").focus();
}
