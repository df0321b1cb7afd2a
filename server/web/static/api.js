// The REST API with the bearer token kept in localStorage; shared by every page.
export const token = () => localStorage.getItem("memoria.token");

export async function api(path, { method = "GET", json, form } = {}) {
  const headers = {};
  if (token()) headers["Authorization"] = `Bearer ${token()}`;
  let body;
  if (json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(json); }
  if (form !== undefined) body = form;
  const response = await fetch(path, { method, headers, body });
  if (response.status === 401) { location.href = "/app/?next=" + encodeURIComponent(location.pathname + location.search); throw new Error("log in first"); }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error(data && data.error ? data.error + (data.hint ? ` (${data.hint})` : "") : response.statusText);
  return data;
}

export function requireLogin() {
  if (!token()) location.href = "/app/?next=" + encodeURIComponent(location.pathname + location.search);
}

export function showError(element, error) { element.textContent = error ? String(error.message || error) : ""; }
