// Rollgate dashboard: live refresh of the page's #live part, and confirmation dialogs.
// Pages work without this script (server-rendered; actions get a confirmation page instead).
"use strict";

// Confirmation: a form with data-confirm asks first; once confirmed it says so to the server,
// which then acts instead of showing its own confirmation page.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const text = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  if (!text) return;
  if (!window.confirm(text)) {
    event.preventDefault();
    return;
  }
  const confirmed = form.querySelector('input[name="confirmed"]');
  if (confirmed) confirmed.value = "1";
});

// Live refresh: fetch the element's data-live URL every data-refresh-ms and swap its content.
// A changed data-phase reloads the whole page (the buttons depend on the phase).
(() => {
  const every = Number(document.body.dataset.refreshMs) || 0;
  if (every <= 0) return;
  let busy = false;
  let stopped = false;

  async function refresh() {
    const live = document.getElementById("live");
    if (stopped || busy || document.hidden || !live || !live.dataset.live) return;
    busy = true;
    try {
      const response = await fetch(live.dataset.live, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { "X-Rollgate-Live": "1" },
      });
      if (response.status === 401) {
        stopped = true;
        const ended = document.getElementById("session-ended");
        if (ended) ended.hidden = false;
        return;
      }
      if (!response.ok) return;
      const template = document.createElement("template");
      template.innerHTML = await response.text();
      const next = template.content.getElementById("live");
      if (!next) return;
      if (next.dataset.phase !== live.dataset.phase) {
        window.location.reload();
        return;
      }
      live.replaceChildren(...next.childNodes);
    } catch (_) {
      // The control plane may be restarting; try again at the next tick.
    } finally {
      busy = false;
    }
  }

  window.setInterval(refresh, every);
})();
