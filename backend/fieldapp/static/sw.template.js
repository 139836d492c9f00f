// The field app's service worker: the shell from the cache, first; the API is never touched.
// Rendered by the server with the shell's version and files, so any change of the shell is a new
// worker. It never skips waiting: a running app keeps its version until every window of it is
// closed, so a new version takes over on the next start and never in the middle of a visit.
const VERSION = "__SHELL_VERSION__";
const FILES = "__SHELL_FILES__";
const CACHE = "shell-" + VERSION;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(FILES)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("shell-") && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !url.pathname.startsWith("/app/")) {
    return;  // the API and the console go to the network as usual
  }
  event.respondWith(caches.open(CACHE).then(async (cache) => {
    const hit = await cache.match(event.request, {ignoreSearch: true})
      || (event.request.mode === "navigate" ? await cache.match("./") : undefined);
    return hit || fetch(event.request);
  }));
});
