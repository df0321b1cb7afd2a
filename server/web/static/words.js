// Everything a person reads: API errors turned into sentences, call states, photo quality and
// the voice's state. An API message is shown only when it is already plain words; otherwise the
// page says what happened in general terms (the details are in the browser console and server log).

// Signs of developer text: API paths, HTTP verbs, schema references, code quoting, regular
// expressions, stack traces, shell commands.
const DEVELOPER = /\/schema|\/avatars|\/calls|\/auth|\b(GET|POST|PUT|PATCH|DELETE) |Expected `|`|\{|\}|\[\^|\\[dwsS.]|\$\/|\^\[|Traceback|Exception|Error:|\bmemoria [a-z]+|msgspec|sqlalchemy|invalid request/;

export function isPlain(text) { return typeof text === "string" && text.trim() !== "" && !DEVELOPER.test(text); }

function sentence(text) {
  const t = text.trim();
  const s = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?…]$/.test(s) ? s : s + ".";
}

const BY_STATUS = {
  0: "Memoria cannot be reached. Check that the computer running it is on and connected.",
  401: "Please log in again.",
  403: "That is not allowed.",
  404: "That could not be found. It may have been removed.",
  408: "That took too long. Please try again.",
  409: "That changed in the meantime. Please reload the page.",
  413: "That file is too large.",
  415: "That kind of file cannot be used.",
  429: "Too many tries in a short time. Please wait a minute and try again.",
  503: "Memoria is busy or restarting. Please try again in a moment.",
};

function forField(error) {
  const text = String(error || "").toLowerCase();
  if (text.includes("password")) return "Please choose a password of at least 8 characters that is not easy to guess.";
  if (text.includes("email")) return "Please check the email address: it should look like name@example.org.";
  if (text.includes("name")) return "Please give a name (up to 120 characters).";
  if (text.includes("relationship")) return "Please say who they were to you (up to 120 characters).";
  if (text.includes("consent")) return "Please tick the box to confirm you may use this person's likeness and voice.";
  if (text.includes("rating")) return "Please choose from one to five stars.";
  return null;
}

// An Error whose message is for the person reading the page.
export function plainError({ status, error, hint, context = "" }) {
  let message;
  if (context === "login" && (status === 401 || status === 400)) message = "That email and password do not match. Please try again.";
  else if (context === "session") message = BY_STATUS[401];
  else if (isPlain(error)) message = sentence(error) + (isPlain(hint) ? " " + sentence(hint) : "");
  else if (status === 400 || status === 422) message = forField(error) || "Something in the form is not right. Please check it and try again.";
  else message = BY_STATUS[status] || "Something went wrong. Please try again.";
  const err = new Error(message);
  err.status = status;
  return err;
}

// What the avatar is doing, as the page says it.
export function stateWords(state, name) {
  return {
    connecting: "Connecting…",
    preparing: `${name} is getting ready…`,
    idle: `${name} is here`,
    listening: `${name} is listening`,
    thinking: `${name} is thinking…`,
    speaking: `${name} is speaking`,
    reconnecting: "The connection dropped. Reconnecting…",
  }[state] || "";
}

export function endWords(reason) {
  if (reason === "hung up") return "You ended the call.";
  if (reason === "could not connect") return "The call could not connect. Please try again.";
  if (reason === "disconnected" || reason === "connect timeout") return "The connection was lost, so the call ended.";
  if (reason === "server shutdown") return "Memoria was restarted, so the call ended.";
  return "The call has ended.";
}

// A photo's quality score (0..1) and advice, in words.
export function photoWords(photo) {
  const score = photo.quality_score;
  const verdict = score >= 0.75 ? "A good photo for bringing them to life." : score >= 0.5 ? "This photo will work." : "This photo will work, but a better one would look more like them.";
  const advice = ((photo.quality && photo.quality.advice) || []).filter(isPlain);
  return { verdict, advice };
}

export function voiceWords(voice, samples, name) {
  const count = samples === 1 ? "one recording" : `${samples} recordings`;
  switch (voice && voice.state) {
    case "learning": return `Learning ${name}'s voice from ${count}…`;
    case "ready": return `${name}'s voice is learned from ${count}.`;
    case "outdated": return `The recordings changed: ${name}'s voice will be learned again from ${count}.`;
    case "failed": return `${name}'s voice could not be learned from these recordings${isPlain(voice.error) ? ": " + voice.error : ""}. Try a longer, clearer recording.`;
    default: return samples ? `${name}'s voice will be learned from ${count}.` : `No recordings yet: ${name} speaks with a standard voice. Add a recording of their voice to make it sound like them.`;
  }
}

export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return s < 60 ? `${s} seconds` : `${Math.floor(s / 60)} min ${s % 60 ? (s % 60) + " s" : ""}`.trim();
}
