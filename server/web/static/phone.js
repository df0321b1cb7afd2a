// How a phone at home reaches this Memoria: the https address (text and QR code) and the
// certificate to trust once.
import { $, api, showError } from "/app/api.js";

try {
  const lan = await api("/lan");
  $("off").hidden = lan.enabled;
  $("on").hidden = !lan.enabled;
  if (lan.enabled) {
    $("url").textContent = lan.url; $("url").href = lan.url;
    $("qr").src = "/lan/qr.svg";
    const others = lan.urls.filter((u) => u !== lan.url);
    $("others").textContent = others.length ? `Or: ${others.join("  ")}` : "";
    if (lan.ca_url) { $("ca-link").href = lan.ca_url; $("fingerprint").textContent = lan.ca_fingerprint; }
    else $("ca-link").closest("section").hidden = true;  // a certificate the phone already trusts
  }
} catch (err) { showError($("error"), err); }
