import { api, requireLogin, showError } from "/app/api.js";
await requireLogin();
const list = document.getElementById("avatars");
function photo(img, avatar) { img.src = `/avatars/${avatar.id}/photos/${avatar.primary_photo_id}/file`; }
try {
  const avatars = await api("/avatars");
  if (!avatars.length) list.innerHTML = "<li>No one yet. Add someone, or run <code>memoria demo</code>.</li>";
  for (const avatar of avatars) {
    const item = document.createElement("li");
    item.innerHTML = `<img alt=""><h3></h3><p></p><a class="button call-link">Call</a>`;
    item.querySelector("h3").textContent = avatar.name;
    item.querySelector("p").textContent = avatar.relationship;
    item.querySelector("a").href = `/app/call.html?avatar=${avatar.id}`;
    item.querySelector("a").dataset.avatar = avatar.id;
    if (avatar.primary_photo_id) photo(item.querySelector("img"), avatar);
    list.append(item);
  }
} catch (err) { showError(document.getElementById("error"), err); }
document.getElementById("logout").addEventListener("click", async () => {
  try { await api("/auth/session", { method: "DELETE" }); } finally { location.href = "/app/"; }
});
