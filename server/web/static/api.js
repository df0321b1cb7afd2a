// The REST API for every page. The browser is logged in by an HttpOnly session cookie that page
// scripts never see; changing requests echo the memoria_csrf cookie in X-CSRF-Token.
// Errors reach the page as sentences for a person (words.js); the API's own text goes to the console.
import { plainError } from "/app/words.js";

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

function cookie(name) {
  const found = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
}

export async function api(path, { method = "GET", json, form, context = "" } = {}) {
  const headers = {};
  if (!SAFE.has(method)) headers["X-CSRF-Token"] = cookie("memoria_csrf");
  let body;
  if (json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(json); }
  if (form !== undefined) body = form;
  let response;
  try {
    response = await fetch(path, { method, headers, body, credentials: "same-origin" });
  } catch (err) {
    console.warn(`${method} ${path}:`, err);
    throw plainError({ status: 0, context });
  }
  if (response.status === 401 && !path.startsWith("/auth/")) { goToLogin(); throw plainError({ status: 401, context: "session" }); }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) {
    console.warn(`${method} ${path} -> ${response.status}:`, data || text);
    throw plainError({ status: response.status, error: data && data.error, hint: data && data.hint, context });
  }
  return data;
}

export function upload(path, file, name) {
  const form = new FormData();
  form.append("file", file, name || file.name);
  return api(path, { method: "POST", form, context: "upload" });
}

export function goToLogin() {
  location.href = "/app/?next=" + encodeURIComponent(location.pathname + location.search);
}

// Only a page of this app after the login page: never "//elsewhere" or "/\elsewhere", which
// browsers read as another site, and never the login page itself (that would loop).
export function safeNext(value, fallback = "/app/avatars.html") {
  const own = value && /^\/app\/[A-Za-z0-9._\-/?=&%]*$/.test(value) && !value.includes("..");
  const login = value && /^\/app\/(index\.html)?([?#].*)?$/.test(value);
  return own && !login ? value : fallback;
}

export async function requireLogin() {
  if (!cookie("memoria_csrf")) { goToLogin(); return null; }
  return api("/auth/me");
}

export function showError(element, error) { element.textContent = error ? String(error.message || error) : ""; }

export const $ = (id) => document.getElementById(id);

// On a plain http address other than this computer's own, browsers refuse the microphone and
// camera (and a logged-in session): say so on every page, with the https address to use instead.
async function explainInsecure() {
  if (window.isSecureContext) return;
  const banner = document.createElement("div");
  banner.id = "insecure";
  banner.className = "insecure";
  banner.setAttribute("role", "alert");
  banner.textContent = "This address is not secure, so your browser will not let Memoria use the microphone or camera.";
  document.body.prepend(banner);
  try {
    const lan = await (await fetch("/lan")).json();
    if (lan.enabled && lan.url) {
      banner.textContent += " Open the secure address instead: ";
      const link = document.createElement("a");
      link.href = lan.url; link.textContent = lan.url;
      banner.append(link);
    } else {
      banner.textContent += " Use Memoria on the computer it runs on, or ask whoever looks after it to set it up for phones.";
    }
  } catch { /* the banner's first sentence stands */ }
}
explainInsecure();

export function avatarIdFromUrl() {
  const id = Number(new URLSearchParams(location.search).get("avatar"));
  return Number.isInteger(id) && id > 0 ? id : null;
}

export function when(iso) {
  const date = new Date(iso);
  return date.toLocaleString(undefined, { weekday: "short", day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit" });
}
