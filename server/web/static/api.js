// The REST API for every page. The browser is logged in by an HttpOnly session cookie that page
// scripts never see; changing requests echo the memoria_csrf cookie in X-CSRF-Token.
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

function cookie(name) {
  const found = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
}

export async function api(path, { method = "GET", json, form } = {}) {
  const headers = {};
  if (!SAFE.has(method)) headers["X-CSRF-Token"] = cookie("memoria_csrf");
  let body;
  if (json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(json); }
  if (form !== undefined) body = form;
  const response = await fetch(path, { method, headers, body, credentials: "same-origin" });
  if (response.status === 401 && !path.startsWith("/auth/")) { goToLogin(); throw new Error("Please log in again."); }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error(data && data.error ? data.error + (data.hint ? ` (${data.hint})` : "") : response.statusText);
  return data;
}

export function goToLogin() {
  location.href = "/app/?next=" + encodeURIComponent(location.pathname + location.search);
}

// Only a path of this app: never "//elsewhere" or "/\elsewhere", which browsers read as another site.
export function safeNext(value, fallback = "/app/avatars.html") {
  const own = value && /^\/app\/[A-Za-z0-9._\-/?=&%]*$/.test(value) && !value.includes("..");
  return own ? value : fallback;
}

export async function requireLogin() {
  if (!cookie("memoria_csrf")) { goToLogin(); return null; }
  return api("/auth/me");
}

export function showError(element, error) { element.textContent = error ? String(error.message || error) : ""; }
