// The call page: WebRTC to the server (mic + camera up, the avatar's voice and face down),
// captions / state / emotion from the data channel, typed messages up it, and the controls.
import { $, api, avatarIdFromUrl, requireLogin, showError } from "/app/api.js";
import { stars } from "/app/rating.js";
import { endWords, stateWords } from "/app/words.js";

await requireLogin();
const avatarId = avatarIdFromUrl();
// What the page knows, exposed for people debugging a call and for the browser tests.
const call = (window.memoriaCall = { id: null, state: "idle", emotion: null, captions: [], events: [], ended: false, flags: [], notices: [], name: "" });
let pc, channel, local, name = "They", serverState = "idle";

try {
  const avatar = await api(`/avatars/${avatarId}`);
  name = call.name = avatar.name;
  document.title = `Memoria: call ${name}`;
  $("start").textContent = `Call ${name}`;
  $("history-link").href = `/app/history.html?avatar=${avatarId}`;
  if (avatar.primary_photo_id) { $("poster").src = `/avatars/${avatarId}/photos/${avatar.primary_photo_id}/file`; $("poster").hidden = false; }
  else { $("start").disabled = true; showError($("error"), new Error(`${name} has no photo yet. Add one on their page first.`)); }
} catch (err) { showError($("error"), err); $("start").disabled = true; }

// On a phone the captions sit under the picture (over it they would cover the mouth and chin).
const phone = matchMedia("(max-width: 600px)");
function placeCaptions() {
  if (phone.matches) $("stage").after($("captions"));
  else $("stage").append($("captions"));
}
placeCaptions();
phone.addEventListener("change", placeCaptions);

function show(state) {
  call.shown = state;
  $("state").textContent = stateWords(state, name);
  $("state").dataset.state = state;
}

function addTranscript(role, text) {
  const line = document.createElement("p");
  line.className = role;
  const who = document.createElement("strong");
  who.textContent = role === "user" ? "You: " : `${name}: `;
  line.append(who, document.createTextNode(text));
  $("transcript").append(line);
  $("transcript").scrollTop = 1e9;
}

function showCaption(role, text, replace) {
  const box = $("captions");
  if (replace || box.dataset.role !== role) { box.innerHTML = ""; box.dataset.role = role; }
  const p = document.createElement("p");
  p.className = role;
  p.textContent = text;
  box.append(p);
  while (box.children.length > 3) box.firstChild.remove();
}

function setRecording(on) {
  $("rec").hidden = !on;
  $("record").setAttribute("aria-pressed", String(on));
  $("record").textContent = on ? "Stop recording" : "Record";
}

function onEvent(event) {
  call.events.push(event);
  if (event.type === "call") { call.id = event.call_id; setRecording(Boolean(event.recording)); }
  if (event.type === "state") { call.state = serverState = event.state; if (call.shown !== "reconnecting") show(event.state); }
  if (event.type === "emotion") call.emotion = event.emotion;
  if (event.type === "caption") {
    call.captions.push(event);
    if (event.role === "user") { showCaption("user", event.text, true); addTranscript("user", event.text); }
    else if (!event.final) showCaption("avatar", event.text, false);
    else addTranscript("avatar", event.text);
  }
  if (event.type === "flag") {
    call.flags.push(event.flags);
    if (event.flags.crisis) {
      const line = event.flags.crisis_line || {};
      const reach = [line.name, line.phone && `call ${line.phone}`, line.text && `text ${line.text}`].filter(Boolean).join(": ");
      $("banner-line").textContent = reach ? ` ${reach}.` : "";
      if (line.url) { $("banner-link").href = line.url; $("banner-link").hidden = false; }
      $("banner").style.display = "block";
    }
  }
  if (event.type === "error") showError($("error"), new Error(event.message));
  if (event.type === "notice") { call.notices.push(event.message); $("notice").textContent = event.message; }
  if (event.type === "ended") finish(event.reason);
}

async function waitForIce(peer) {  // aiortc takes no trickled candidates: send them all in the offer
  if (peer.iceGatheringState === "complete") return;
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, 3000);
    peer.addEventListener("icegatheringstatechange", () => { if (peer.iceGatheringState === "complete") { clearTimeout(timer); resolve(); } });
  });
}

function watchConnection(peer) {
  peer.addEventListener("iceconnectionstatechange", () => {
    if (call.ended) return;
    if (peer.iceConnectionState === "disconnected") show("reconnecting");
    else if (["connected", "completed"].includes(peer.iceConnectionState) && call.shown === "reconnecting") show(serverState);
  });
  peer.addEventListener("connectionstatechange", () => { if (["failed", "closed"].includes(peer.connectionState)) finish("disconnected"); });
}

async function start() {
  if (call.ended) { location.reload(); return; }  // calling again: a fresh page, a new connection
  if (!navigator.mediaDevices) {  // an insecure address: the browser has no microphone to give
    showError($("error"), new Error("This address is not secure, so the browser will not let Memoria use the microphone. Open the secure address shown at the top of the page."));
    return;
  }
  $("start").disabled = true; showError($("error"), null);
  document.body.classList.add("in-call");
  show("connecting");
  try {
    const ice = await api("/calls/ice");
    pc = new RTCPeerConnection({ iceServers: ice.ice_servers, iceTransportPolicy: ice.ice_transport_policy || "all" });
    const constraints = { audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true }, video: { width: 320, height: 240 } };
    local = await navigator.mediaDevices.getUserMedia(constraints).catch(() => navigator.mediaDevices.getUserMedia({ audio: constraints.audio }));
    $("self-video").srcObject = local;
    for (const track of local.getTracks()) pc.addTrack(track, local);
    if (!local.getVideoTracks().length) pc.addTransceiver("video", { direction: "recvonly" });
    for (const t of pc.getTransceivers()) {
      const caps = RTCRtpReceiver.getCapabilities && RTCRtpReceiver.getCapabilities("video");
      if (t.receiver.track.kind === "video" && caps && t.setCodecPreferences) t.setCodecPreferences(caps.codecs.filter((c) => /VP8|rtx/i.test(c.mimeType)));
    }
    const remote = new MediaStream();
    $("avatar-video").srcObject = remote;
    pc.addEventListener("track", (e) => { remote.addTrack(e.track); $("avatar-video").play().catch(() => {}); });
    $("avatar-video").addEventListener("playing", () => { $("poster").hidden = true; }, { once: true });
    watchConnection(pc);
    channel = pc.createDataChannel("events");
    channel.addEventListener("message", (e) => onEvent(JSON.parse(e.data)));
    channel.addEventListener("open", () => { $("typed").disabled = $("send").disabled = false; });
    await pc.setLocalDescription(await pc.createOffer());
    await waitForIce(pc);
    const wide = $("wide").checked;
    $("stage").classList.toggle("wide", wide);
    $("wide").disabled = true;
    const answer = await api(`/avatars/${avatarId}/calls`, { method: "POST", json: { sdp: pc.localDescription.sdp, type: "offer", video: wide ? "720p" : "512" } });
    call.id = answer.call_id;
    if (call.shown === "connecting") show("preparing");
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    for (const id of ["mute", "camera", "record", "end"]) $(id).disabled = false;
    $("camera").disabled = !local.getVideoTracks().length;
  } catch (err) {
    if (local) local.getTracks().forEach((t) => t.stop());
    if (pc) pc.close();
    show("idle");
    document.body.classList.remove("in-call");
    $("state").textContent = "Not connected";
    showError($("error"), err);
    $("start").disabled = false; $("wide").disabled = false;
  }
}

function toggle(button, on) { button.setAttribute("aria-pressed", String(on)); return on; }

$("mute").addEventListener("click", (e) => { const on = toggle(e.target, e.target.getAttribute("aria-pressed") !== "true"); local.getAudioTracks().forEach((t) => (t.enabled = !on)); e.target.textContent = on ? "Unmute" : "Mute"; });
$("camera").addEventListener("click", (e) => { const on = toggle(e.target, e.target.getAttribute("aria-pressed") !== "true"); local.getVideoTracks().forEach((t) => (t.enabled = !on)); e.target.textContent = on ? "Camera on" : "Camera off"; });
$("record").addEventListener("click", (e) => {
  const on = e.target.getAttribute("aria-pressed") !== "true";
  if (channel && channel.readyState === "open") channel.send(JSON.stringify({ type: "record", on }));
  setRecording(on);
});
$("end").addEventListener("click", async () => {
  $("end").disabled = true;
  try { if (call.id !== null) await api(`/calls/${call.id}/end`, { method: "POST" }); } catch (err) { showError($("error"), err); }
  finish("hung up");
});
$("start").addEventListener("click", start);
$("type-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("typed").value.trim();
  if (!text || !channel || channel.readyState !== "open") return;
  channel.send(JSON.stringify({ type: "say", text }));
  $("typed").value = "";
});

// The last frame stays and fades instead of the picture cutting to black.
function holdLastFrame() {
  const video = $("avatar-video");
  const canvas = $("last-frame");
  if (!video.videoWidth) return;
  canvas.width = video.videoWidth; canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  canvas.hidden = false;
  video.hidden = true;
  requestAnimationFrame(() => canvas.classList.add("fading"));
}

function finish(reason) {
  if (call.ended) return;
  call.ended = true; call.state = "ended"; call.endReason = reason;
  holdLastFrame();
  $("state").textContent = "Call ended";
  $("state").dataset.state = "ended";
  $("ended-words").textContent = endWords(reason);
  for (const id of ["mute", "camera", "record", "end", "typed", "send"]) $(id).disabled = true;
  setRecording(false);
  if (local) local.getTracks().forEach((t) => t.stop());
  if (pc) pc.close();
  $("rating").style.display = "block";
  // the controls offer to call again (a fresh page: a new call, a new connection)
  document.body.classList.remove("in-call");
  $("start").textContent = `Call ${name} again`;
  $("start").disabled = false;
  if (call.id !== null && call.id > 0) stars($("stars"), { id: call.id, user_satisfaction: null }, (rated) => { call.rating = rated.user_satisfaction; $("rated").textContent = "Thank you."; }, (err) => showError($("error"), err));
}

// Browser stats for the avatar's video, for the curious and for tests.
// How the media travels (for the curious and the tests): "host", "srflx" or "relay" (through TURN).
window.memoriaRoute = async () => {
  if (!pc) return null;
  const stats = await pc.getStats();
  let route = null;
  stats.forEach((s) => {
    if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") {
      const local = stats.get(s.localCandidateId);
      route = local ? local.candidateType : null;
    }
  });
  return route;
};

window.memoriaVideoStats = async () => {
  if (!pc) return null;
  let out = null;
  (await pc.getStats()).forEach((s) => { if (s.type === "inbound-rtp" && s.kind === "video") out = { framesDecoded: s.framesDecoded, frameWidth: s.frameWidth, frameHeight: s.frameHeight }; });
  (await pc.getStats()).forEach((s) => { if (s.type === "inbound-rtp" && s.kind === "audio" && out) out.audioEnergy = s.totalAudioEnergy; });
  return out;
};
