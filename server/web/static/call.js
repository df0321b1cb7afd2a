// The call page: WebRTC to the server (mic + camera up, the avatar's voice and face down),
// captions / state / emotion from the data channel, and the controls.
import { api, requireLogin, showError } from "/app/api.js";

await requireLogin();
const $ = (id) => document.getElementById(id);
const avatarId = Number(new URLSearchParams(location.search).get("avatar"));
// What the page knows, exposed for people debugging a call and for the browser tests.
const call = (window.memoriaCall = { id: null, state: "idle", emotion: null, captions: [], events: [], ended: false, flags: [], notices: [] });
let pc, channel, local;

function addTranscript(role, text) {
  const line = document.createElement("div");
  line.textContent = `${role === "user" ? "You" : "They"}: ${text}`;
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

function onEvent(event) {
  call.events.push(event);
  if (event.type === "call") { call.id = event.call_id; $("rec").hidden = !event.recording; $("record").setAttribute("aria-pressed", String(event.recording)); }
  if (event.type === "state") { call.state = event.state; $("state").textContent = event.state; }
  if (event.type === "emotion") { call.emotion = event.emotion; $("emotion").textContent = event.emotion; }
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
  if (event.type === "error") showError($("error"), event.message);
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

async function start() {
  $("start").disabled = true; showError($("error"), null);
  try {
    const ice = await api("/calls/ice");
    pc = new RTCPeerConnection({ iceServers: ice.ice_servers });
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
    pc.addEventListener("connectionstatechange", () => { if (["failed", "closed"].includes(pc.connectionState)) finish("disconnected"); });
    channel = pc.createDataChannel("events");
    channel.addEventListener("message", (e) => onEvent(JSON.parse(e.data)));
    await pc.setLocalDescription(await pc.createOffer());
    await waitForIce(pc);
    const wide = $("wide").checked;
    $("stage").classList.toggle("wide", wide);
    const answer = await api(`/avatars/${avatarId}/calls`, { method: "POST", json: { sdp: pc.localDescription.sdp, type: "offer", video: wide ? "720p" : "512" } });
    call.id = answer.call_id;
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    for (const id of ["mute", "camera", "record", "end"]) $(id).disabled = false;
    $("camera").disabled = !local.getVideoTracks().length;
  } catch (err) {
    showError($("error"), err);
    $("start").disabled = false;
  }
}

function toggle(button, on) { button.setAttribute("aria-pressed", String(on)); return on; }

$("mute").addEventListener("click", (e) => { const on = toggle(e.target, e.target.getAttribute("aria-pressed") !== "true"); local.getAudioTracks().forEach((t) => (t.enabled = !on)); e.target.textContent = on ? "Unmute" : "Mute"; });
$("camera").addEventListener("click", (e) => { const on = toggle(e.target, e.target.getAttribute("aria-pressed") !== "true"); local.getVideoTracks().forEach((t) => (t.enabled = !on)); e.target.textContent = on ? "Camera on" : "Camera off"; });
$("record").addEventListener("click", (e) => {
  const on = e.target.getAttribute("aria-pressed") !== "true";
  if (channel && channel.readyState === "open") channel.send(JSON.stringify({ type: "record", on }));
  toggle(e.target, on); $("rec").hidden = !on;
});
$("end").addEventListener("click", async () => {
  $("end").disabled = true;
  try { if (call.id !== null) await api(`/calls/${call.id}/end`, { method: "POST" }); } catch (err) { showError($("error"), err); }
  finish("hung up");
});
$("start").addEventListener("click", start);

function finish(reason) {
  if (call.ended) return;
  call.ended = true; call.state = "ended";
  $("state").textContent = `call ended (${reason})`;
  for (const id of ["mute", "camera", "record", "end"]) $(id).disabled = true;
  if (local) local.getTracks().forEach((t) => t.stop());
  if (pc) pc.close();
  if (call.id !== null && call.id > 0) showRating();
}

function showRating() {
  $("rating").style.display = "block";
  const stars = $("stars");
  stars.innerHTML = "";
  for (let n = 1; n <= 5; n++) {
    const b = document.createElement("button");
    b.className = "secondary"; b.textContent = "★".repeat(n); b.dataset.rating = n; b.title = `${n} of 5`;
    b.addEventListener("click", async () => {
      try { await api(`/calls/${call.id}/rating`, { method: "POST", json: { rating: n } }); $("rated").textContent = "Thank you."; call.rating = n; }
      catch (err) { showError($("error"), err); }
    });
    stars.append(b);
  }
}

// Browser stats for the avatar's video, for the curious and for tests.
window.memoriaVideoStats = async () => {
  if (!pc) return null;
  let out = null;
  (await pc.getStats()).forEach((s) => { if (s.type === "inbound-rtp" && s.kind === "video") out = { framesDecoded: s.framesDecoded, frameWidth: s.frameWidth, frameHeight: s.frameHeight }; });
  (await pc.getStats()).forEach((s) => { if (s.type === "inbound-rtp" && s.kind === "audio" && out) out.audioEnergy = s.totalAudioEnergy; });
  return out;
};
