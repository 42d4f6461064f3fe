// Shared by every page: the service worker that keeps the lab working offline.
export function registerOffline() {
  if (!("serviceWorker" in navigator) || location.protocol === "file:") return;
  navigator.serviceWorker.register(new URL("../sw.js", import.meta.url), { scope: new URL("../", import.meta.url).pathname })
    .catch((e) => console.warn("offline support unavailable:", e.message));
}
