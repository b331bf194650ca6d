// A report run's page: while the run is queued or running, ask for its state every two seconds and show it
// (status, start, end and progress in the summary; progress, then findings, below) until the run has
// finished, then stop asking. No reload, no library.
const REFRESH_MS = 2000;

function show(state) {
  for (const [field, text] of Object.entries(state.fields || {})) {
    for (const element of document.querySelectorAll(`[data-run-field="${field}"]`)) {
      if (element.textContent !== text) element.textContent = text;
    }
  }
  const panel = document.getElementById("run-progress");
  if (panel && state.html) {
    const holder = document.createElement("div");
    holder.innerHTML = state.html;
    const fresh = holder.querySelector("#run-progress");
    // Replaced only when it changed, so that nothing moves under a reader's focus for nothing.
    if (fresh && fresh.innerHTML !== panel.innerHTML) panel.replaceWith(fresh);
  }
}

function announce(previous, state) {
  const region = document.getElementById("run-announcement");
  if (!region || !state.fields || state.status === previous) return;
  region.textContent = state.is_finished
    ? `The report has finished. Status: ${state.fields.status}.`
    : `Status: ${state.fields.status}.`;
}

function watch(url, status) {
  setTimeout(async () => {
    let finished = false;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json", "X-Requested-With": "fetch" } });
      if (response.ok) {
        const state = await response.json();
        show(state);
        announce(status, state);
        status = state.status;
        finished = state.is_finished;
      }
    } catch (error) {
      // A lost connection: try again at the next tick.
    }
    if (!finished) watch(url, status);
  }, REFRESH_MS);
}

const panel = document.getElementById("run-progress");
if (panel && panel.dataset.finished !== "true") watch(panel.dataset.url, panel.dataset.status);
