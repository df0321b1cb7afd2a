// The five rating stars of a finished call: the chosen one and those before it lit.
import { api } from "/app/api.js";

export function stars(container, call, onRated, onError) {
  container.innerHTML = "";
  container.setAttribute("role", "radiogroup");
  container.setAttribute("aria-label", "How was this call?");
  for (let n = 1; n <= 5; n++) {
    const b = document.createElement("button");
    b.type = "button"; b.className = "star"; b.textContent = "★"; b.dataset.rating = n; b.title = `${n} of 5`;
    b.setAttribute("role", "radio");
    b.setAttribute("aria-checked", String(call.user_satisfaction === n));
    b.classList.toggle("on", (call.user_satisfaction || 0) >= n);
    b.addEventListener("click", async () => {
      try {
        const rated = await api(`/calls/${call.id}/rating`, { method: "POST", json: { rating: n } });
        stars(container, rated, onRated, onError); if (onRated) onRated(rated);
      } catch (err) { if (onError) onError(err); }
    });
    container.append(b);
  }
}
