// Offline support: the first visit caches the pages, scripts and every
// lesson's recording, so every lesson works without a network; the engine
// (pkg/) is cached when a page asks for it in idle time, or the first time a
// page loads it, and from then on custom
// setups, the console, Mallory, the explainer and the matrix work offline too.
// `cargo xtask lab` writes the real list and version into the next line, so
// every build changes this file and browsers pick up the new lab.
const BUILD = { version: "dev", files: [] };
const manifest = Promise.resolve(BUILD);

self.addEventListener("install", (event) => {
  event.waitUntil(manifest.then(async ({ version, files }) => {
    const cache = await caches.open(`smtp-lab-${version}`);
    await cache.addAll(files.map((f) => new URL(f, self.location)));
    await self.skipWaiting();
  }));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(manifest.then(async ({ version }) => {
    for (const key of await caches.keys()) if (key !== `smtp-lab-${version}`) await caches.delete(key);
    await self.clients.claim();
  }));
});

// A page asks, in idle time, for the engine to be kept before anything needs it.
self.addEventListener("message", (event) => {
  const urls = Array.isArray(event.data?.keep) ? event.data.keep : [];
  event.waitUntil(manifest.then(async ({ version }) => {
    const cache = await caches.open(`smtp-lab-${version}`);
    for (const text of urls) {
      const url = new URL(text, self.location);
      if (url.origin !== self.location.origin || !url.pathname.includes("/pkg/") || (await cache.match(url))) continue;
      const response = await fetch(url).catch(() => null);
      if (response?.ok) await cache.put(url, response);
    }
  }));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  event.respondWith((async () => {
    const cached = await caches.match(event.request, { ignoreSearch: true });
    if (cached) return cached;
    try {
      const response = await fetch(event.request);
      if (response.ok && url.pathname.includes("/pkg/")) {
        const { version } = await manifest;
        await (await caches.open(`smtp-lab-${version}`)).put(event.request, response.clone());
      }
      return response;
    } catch (e) {
      if (event.request.mode === "navigate") {
        const index = await caches.match(new URL("index.html", self.location));
        if (index) return index;
      }
      throw e;
    }
  })());
});
