// One person's page: their details, photos (quality in words, the main one), voice (recordings,
// recording in the browser with a level meter, what was learned), personality, memories, removal.
import { $, api, avatarIdFromUrl, requireLogin, showError, upload } from "/app/api.js";
import { confirmRemoval } from "/app/person-common.js";
import { duration, photoWords, voiceWords } from "/app/words.js";

await requireLogin();
const id = avatarIdFromUrl();
const base = `/avatars/${id}`;
let avatar;
const fail = (err) => showError($("error"), err);
const saved = (el) => { el.textContent = "Saved."; setTimeout(() => (el.textContent = ""), 3000); };

// -- who -----------------------------------------------------------------------------------------

async function loadAvatar() {
  avatar = await api(base);
  document.title = `Memoria: ${avatar.name}`;
  $("title").textContent = avatar.name;
  $("subtitle").textContent = avatar.relationship;
  $("name").value = avatar.name;
  $("relationship").value = avatar.relationship;
  $("user-name").value = avatar.user_name;
  $("history-link").href = `/app/history.html?avatar=${id}`;
  $("remove").textContent = `Remove ${avatar.name}…`;
  const portrait = $("portrait");
  portrait.hidden = !avatar.primary_photo_id;
  if (avatar.primary_photo_id) portrait.src = `${base}/photos/${avatar.primary_photo_id}/file`;
  const call = $("call-link");
  call.hidden = !avatar.primary_photo_id;
  call.href = `/app/call.html?avatar=${id}`;
  call.textContent = `Call ${avatar.name}`;
  if (!avatar.primary_photo_id) $("welcome").textContent = `Add a photo of ${avatar.name}'s face to be able to call them.`;
  else if (new URLSearchParams(location.search).get("created")) $("welcome").textContent = `${avatar.name} is ready to call. Below is how the photo and voice came out.`;
  else $("welcome").textContent = "";
}

$("details").addEventListener("submit", async (e) => {
  e.preventDefault(); fail(null);
  try {
    await api(base, { method: "PATCH", json: { name: $("name").value.trim(), relationship: $("relationship").value.trim(), user_name: $("user-name").value.trim() } });
    await loadAvatar(); saved($("details-saved"));
  } catch (err) { fail(err); }
});

// -- photos --------------------------------------------------------------------------------------

async function loadPhotos() {
  const photos = await api(`${base}/photos`);
  const list = $("photos");
  list.innerHTML = "";
  for (const photo of photos) {
    const item = document.createElement("li");
    item.dataset.photo = photo.id;
    item.innerHTML = `<img alt=""><p class="verdict"></p><ul class="advice"></ul><div class="actions"></div>`;
    item.querySelector("img").src = `${base}/photos/${photo.id}/file`;
    const { verdict, advice } = photoWords(photo);
    item.querySelector(".verdict").textContent = verdict;
    for (const line of advice) { const li = document.createElement("li"); li.textContent = line; item.querySelector(".advice").append(li); }
    const actions = item.querySelector(".actions");
    if (photo.is_primary) {
      item.classList.add("primary");
      const badge = document.createElement("span"); badge.className = "chip badge"; badge.textContent = "Main photo"; actions.append(badge);
    } else {
      const main = document.createElement("button");
      main.className = "secondary make-primary"; main.textContent = "Use as main photo";
      main.addEventListener("click", async () => { try { await api(`${base}/photos/${photo.id}/primary`, { method: "PUT" }); await refresh(); } catch (err) { fail(err); } });
      actions.append(main);
    }
    const remove = document.createElement("button");
    remove.className = "secondary remove-photo"; remove.textContent = "Remove";
    remove.addEventListener("click", async () => { try { await api(`${base}/photos/${photo.id}`, { method: "DELETE" }); await refresh(); } catch (err) { fail(err); } });
    actions.append(remove);
    list.append(item);
  }
}

$("photo-file").addEventListener("change", async (e) => {
  const file = e.target.files[0];
  if (!file) return;
  fail(null); $("photo-progress").textContent = "Looking at the photo…";
  try { await upload(`${base}/photos`, file); $("photo-progress").textContent = ""; await refresh(); }
  catch (err) { $("photo-progress").textContent = ""; fail(err); }
  e.target.value = "";
});

// -- voice ---------------------------------------------------------------------------------------

let polling = null;

async function loadVoice() {
  const samples = await api(`${base}/voice-samples`);
  $("voice-state").textContent = voiceWords(avatar.voice, samples.length, avatar.name);
  $("voice-state").dataset.state = avatar.voice.state;
  const list = $("samples");
  list.innerHTML = "";
  for (const sample of samples) {
    const item = document.createElement("li");
    item.dataset.sample = sample.id;
    item.innerHTML = `<span class="sample-name"></span> <span class="muted"></span><audio controls preload="none"></audio><button class="secondary remove-sample">Remove</button>`;
    item.querySelector(".sample-name").textContent = sample.original_name;
    item.querySelector(".muted").textContent = duration(sample.duration_s);
    item.querySelector("audio").src = `${base}/voice-samples/${sample.id}/file`;
    item.querySelector("button").addEventListener("click", async () => {
      try { await api(`${base}/voice-samples/${sample.id}`, { method: "DELETE" }); await refreshVoice(); } catch (err) { fail(err); }
    });
    list.append(item);
  }
  clearTimeout(polling);
  if (["learning", "outdated"].includes(avatar.voice.state) && samples.length) polling = setTimeout(refreshVoice, 3000);
}

async function refreshVoice() { avatar = await api(base); await loadVoice(); }

async function addRecordings(files) {
  fail(null);
  try {
    for (const [i, file] of files.entries()) {
      $("voice-progress").textContent = `Adding recording ${i + 1} of ${files.length}…`;
      await upload(`${base}/voice-samples`, file);
    }
  } catch (err) { fail(err); }
  $("voice-progress").textContent = "";
  await refreshVoice();
}

// What a call would sound like: a sentence in the voice as it is now (learned or not yet).
$("hear-voice").addEventListener("click", async () => {
  fail(null);
  const button = $("hear-voice");
  button.disabled = true; button.textContent = "Preparing…";
  try {
    const response = await fetch(`${base}/voice/preview`, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`preview ${response.status}`);
    const player = $("voice-preview");
    if (player.src) URL.revokeObjectURL(player.src);
    player.src = URL.createObjectURL(await response.blob());
    player.hidden = false;
    await player.play().catch(() => {});
  } catch (err) {
    console.warn(err);
    fail(new Error("Their voice could not be played just now. Please try again."));
  } finally {
    button.disabled = false; button.textContent = "Hear how they sound";
  }
});

$("voice-file").addEventListener("change", async (e) => { await addRecordings([...e.target.files]); e.target.value = ""; });

// Recording in the page: the microphone through MediaRecorder (WebM/Opus), with a level meter.
const MAX_RECORDING_S = 120;
let recording = null;

async function startRecording() {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  analyser.fftSize = 1024;
  context.createMediaStreamSource(stream).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const recorder = new MediaRecorder(stream);
  const chunks = [];
  recorder.addEventListener("dataavailable", (e) => { if (e.data.size) chunks.push(e.data); });
  const started = performance.now();
  const meter = setInterval(() => {
    analyser.getFloatTimeDomainData(samples);
    const rms = Math.sqrt(samples.reduce((a, x) => a + x * x, 0) / samples.length);
    $("level").value = Math.min(1, rms * 4);
    const seconds = (performance.now() - started) / 1000;
    $("record-time").textContent = `${Math.floor(seconds)} s`;
    if (seconds > MAX_RECORDING_S) stopRecording();
  }, 100);
  recorder.start(250);
  recording = { stream, context, recorder, chunks, meter };
  $("record-voice").textContent = "Stop and keep the recording";
  $("record-voice").setAttribute("aria-pressed", "true");
}

async function stopRecording() {
  const { stream, context, recorder, chunks, meter } = recording;
  recording = null;
  clearInterval(meter);
  const stopped = new Promise((resolve) => recorder.addEventListener("stop", resolve, { once: true }));
  recorder.stop();
  await stopped;
  stream.getTracks().forEach((t) => t.stop());
  await context.close();
  $("level").value = 0; $("record-time").textContent = "";
  $("record-voice").textContent = "Record with the microphone";
  $("record-voice").setAttribute("aria-pressed", "false");
  const blob = new Blob(chunks, { type: recorder.mimeType || "audio/webm" });
  const name = `recording-${new Date().toISOString().slice(0, 16).replace(/[:T]/g, "-")}.webm`;
  await addRecordings([new File([blob], name, { type: blob.type })]);
}

$("record-voice").addEventListener("click", async () => {
  fail(null);
  try { if (recording) await stopRecording(); else await startRecording(); }
  catch (err) { fail(new Error("The microphone could not be used. Allow this page to use it, or upload a recording instead.")); console.warn(err); }
});

// -- personality and memories --------------------------------------------------------------------

async function loadPersonality() {
  const p = await api(`${base}/personality`);
  $("personality").value = p.personality;
  $("style").value = p.speaking_style;
  $("phrases").value = p.example_phrases.join("\n");
}

$("personality-form").addEventListener("submit", async (e) => {
  e.preventDefault(); fail(null);
  const phrases = $("phrases").value.split("\n").map((s) => s.trim()).filter(Boolean);
  try {
    await api(`${base}/personality`, { method: "PUT", json: { personality: $("personality").value, speaking_style: $("style").value, example_phrases: phrases } });
    saved($("personality-saved"));
  } catch (err) { fail(err); }
});

async function loadMemories() {
  const memories = await api(`${base}/memories`);
  const list = $("memories");
  list.innerHTML = "";
  if (!memories.length) list.innerHTML = `<li class="muted empty">No memories yet. ${avatar.name} talks about what you add here.</li>`;
  for (const memory of memories) {
    const item = document.createElement("li");
    item.dataset.memory = memory.id;
    item.innerHTML = `<textarea aria-label="Memory"></textarea><button class="secondary save-memory">Save</button> <button class="secondary remove-memory">Remove</button>`;
    item.querySelector("textarea").value = memory.text;
    item.querySelector(".save-memory").addEventListener("click", async () => {
      try { await api(`${base}/memories/${memory.id}`, { method: "PATCH", json: { text: item.querySelector("textarea").value } }); item.querySelector(".save-memory").textContent = "Saved"; }
      catch (err) { fail(err); }
    });
    item.querySelector(".remove-memory").addEventListener("click", async () => {
      try { await api(`${base}/memories/${memory.id}`, { method: "DELETE" }); await loadMemories(); } catch (err) { fail(err); }
    });
    list.append(item);
  }
}

$("memory-form").addEventListener("submit", async (e) => {
  e.preventDefault(); fail(null);
  const text = $("memory").value.trim();
  if (!text) return;
  try { await api(`${base}/memories`, { method: "POST", json: { text } }); $("memory").value = ""; await loadMemories(); }
  catch (err) { fail(err); }
});

$("remove").addEventListener("click", () => confirmRemoval($("remove-panel"), avatar, () => (location.href = "/app/avatars.html"), $("error")));

async function refresh() { await loadAvatar(); await loadPhotos(); await loadVoice(); }

try {
  if (id === null) throw new Error("This page needs someone to show. Go back to the list and choose them.");
  await refresh();
  await loadPersonality();
  await loadMemories();
} catch (err) { fail(err); }
