// The people you can call: a card each, with Call, Edit and past calls; someone not finished
// (no photo yet) can be finished or removed.
import { $, api, requireLogin, showError } from "/app/api.js";
import { confirmRemoval } from "/app/person-common.js";

await requireLogin();
const list = $("avatars");

function card(avatar) {
  const item = document.createElement("li");
  item.dataset.avatar = avatar.id;
  const picture = avatar.primary_photo_id
    ? `<img alt="">`
    : `<div class="no-photo">No photo yet</div>`;
  item.innerHTML = `${picture}<h3></h3><p class="muted"></p><div class="actions"></div>`;
  item.querySelector("h3").textContent = avatar.name;
  item.querySelector("p").textContent = avatar.relationship;
  if (avatar.primary_photo_id) item.querySelector("img").src = `/avatars/${avatar.id}/photos/${avatar.primary_photo_id}/file`;
  const actions = item.querySelector(".actions");
  const link = (text, href, cls) => { const a = document.createElement("a"); a.textContent = text; a.href = href; a.className = cls; actions.append(a); return a; };
  if (avatar.primary_photo_id) {
    const call = link("Call", `/app/call.html?avatar=${avatar.id}`, "button call-link");
    call.dataset.avatar = avatar.id;
    link("Edit", `/app/person.html?avatar=${avatar.id}`, "button secondary edit-link");
    link("Past calls", `/app/history.html?avatar=${avatar.id}`, "history-link");
  } else {
    item.classList.add("unfinished");
    const note = document.createElement("p");
    note.className = "notice";
    note.textContent = `${avatar.name} is not finished: add a photo of their face to call them.`;
    actions.before(note);
    link("Finish", `/app/person.html?avatar=${avatar.id}`, "button finish-link");
    const remove = document.createElement("button");
    remove.className = "secondary remove"; remove.textContent = "Remove";
    remove.addEventListener("click", () => confirmRemoval(item, avatar, () => item.remove(), $("error")));
    actions.append(remove);
  }
  return item;
}

try {
  const avatars = await api("/avatars");
  if (!avatars.length) list.innerHTML = `<li class="empty">No one here yet. Add someone you remember: a photo of their face is all you need to start.</li>`;
  for (const avatar of avatars) list.append(card(avatar));
} catch (err) { showError($("error"), err); }

$("logout").addEventListener("click", async () => {
  try { await api("/auth/session", { method: "DELETE" }); } finally { location.href = "/app/"; }
});
