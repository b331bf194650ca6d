// A report run's page: while the run is queued or running, fetch the changing part every two seconds
// and put it in place, until the run has finished. No reload, no library.
const REFRESH_MS = 2000;

function watch() {
  const panel = document.getElementById("run-progress");
  if (!panel || panel.dataset.finished === "true") return;
  setTimeout(async () => {
    try {
      const response = await fetch(panel.dataset.url, { headers: { "X-Requested-With": "fetch" } });
      if (response.ok) {
        const holder = document.createElement("div");
        holder.innerHTML = await response.text();
        const fresh = holder.querySelector("#run-progress");
        if (fresh) panel.replaceWith(fresh);
      }
    } catch (error) {
      // A lost connection: try again at the next tick.
    }
    watch();
  }, REFRESH_MS);
}

watch();
