// Past calls, newest first: when, how long, the rating (can be given here), what was said in
// the person's name, and the recording played in the page.
import { $, api, avatarIdFromUrl, requireLogin, showError, when } from "/app/api.js";
import { stars } from "/app/rating.js";
import { duration } from "/app/words.js";

await requireLogin();
const only = avatarIdFromUrl();
const names = {};
let oldest = null;

function entry(call) {
  const name = names[call.avatar_id] || "They";
  const item = document.createElement("li");
  item.className = "panel call-entry";
  item.dataset.call = call.id;
  const length = call.ended_at ? duration((new Date(call.ended_at) - new Date(call.started_at)) / 1000) : "in progress";
  item.innerHTML = `<h3></h3><p class="muted"></p><div class="stars"></div><div class="recording"></div><details><summary>What was said</summary><div class="transcript"></div></details>`;
  item.querySelector("h3").textContent = `${only ? "" : name + ", "}${when(call.started_at)}`;
  item.querySelector("p").textContent = `${length}${call.total_exchanges ? `, ${call.total_exchanges} ${call.total_exchanges === 1 ? "exchange" : "exchanges"}` : ""}`;
  if (call.ended_at) stars(item.querySelector(".stars"), call, null, (err) => showError($("error"), err));
  if (call.has_recording) {
    const video = document.createElement("video");
    video.controls = true; video.preload = "metadata"; video.src = `/calls/${call.id}/recording`;
    item.querySelector(".recording").append(video);
  }
  const transcript = item.querySelector(".transcript");
  if (!call.messages.length) transcript.textContent = "Nothing was said in this call.";
  for (const m of call.messages) {
    const line = document.createElement("p");
    line.className = m.role;
    const who = document.createElement("strong");
    who.textContent = m.role === "user" ? "You: " : `${name}: `;
    line.append(who, document.createTextNode(m.text));
    transcript.append(line);
  }
  return item;
}

async function more() {
  const query = new URLSearchParams({ limit: "20" });
  if (only) query.set("avatar_id", String(only));
  if (oldest) query.set("before", String(oldest));
  const calls = await api(`/calls?${query}`);
  for (const call of calls) $("calls").append(entry(call));
  if (calls.length) oldest = calls[calls.length - 1].id;
  $("more").hidden = calls.length < 20;
  if (!$("calls").children.length) $("calls").innerHTML = `<li class="empty">No calls yet.</li>`;
}

try {
  for (const a of await api("/avatars")) names[a.id] = a.name;
  if (only) $("title").textContent = `Calls with ${names[only] || "them"}`;
  await more();
} catch (err) { showError($("error"), err); }
$("more").addEventListener("click", () => more().catch((err) => showError($("error"), err)));
