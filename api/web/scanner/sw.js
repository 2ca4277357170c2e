// The scanner's service worker: it keeps the page's own files, so that the
// page opens again without network (a phone closes background tabs). Only
// the files of /scanner/ go through it, network first, the kept copy when
// the network fails; API calls never do, and nothing with data is kept.

const CACHE = "passnum-scanner";
const FILES = ["./", "scanner.css", "icon.svg", "manifest.webmanifest",
  // the modules of app.js, as index.html preloads them
  "app.js", "state.js", "store.js", "network.js", "screens.js", "format.js", "views.js", "codec.js", "cameras.js",
  "camera.js", "basket.js", "offline.js", "manual.js", "redeem.js", "undo.js", "device.js", "sync.js", "today.js",
  "vendor/jsqr/jsQR.js", "vendor/tweetnacl/nacl-fast.min.js"];
const NETWORK_WAIT_MS = 4000; // a hung network is no network

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(forgetOthers().then(() => self.clients.claim()));
});

// The server names the files of each release with the release's hash
// (api/static), so the previous release's copies would stay for ever:
// the worker keeps only what FILES names.
async function forgetOthers() {
  const cache = await caches.open(CACHE);
  const keep = new Set(FILES.map((f) => new URL(f, self.location).href));
  for (const request of await cache.keys()) {
    if (!keep.has(request.url)) await cache.delete(request);
  }
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !url.pathname.startsWith("/scanner/")) {
    return; // the API and everything else: straight to the network
  }
  event.respondWith(networkFirst(event.request));
});

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await Promise.race([
      fetch(request),
      new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), NETWORK_WAIT_MS)),
    ]);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (e) {
    const kept = await cache.match(request, { ignoreSearch: true });
    if (kept) return kept;
    throw e;
  }
}
