// Cross-origin isolation on a host that cannot set headers (a plain static
// host, `capos build-site`'s output): this service worker adds the headers
// SharedArrayBuffer needs to every same-origin response, as the site server
// (capos-cli/src/serve.rs) sends them. The page registers it and reloads
// once (web/coi.js); the kernel Worker gets `credentialless`, as from the
// server, so its Fetch can tell CORS refusals from network failures.
// Cross-origin requests (a process's Fetch) pass through untouched.

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.cache === 'only-if-cached' && request.mode !== 'same-origin') return;
  event.respondWith(isolated(request, url));
});

async function isolated(request, url) {
  const response = await fetch(request);
  if (response.status === 0 || response.type === 'opaqueredirect') return response;
  const headers = new Headers(response.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', url.pathname === '/kernel/kernel-worker.js' ? 'credentialless' : 'require-corp');
  headers.set('Cross-Origin-Resource-Policy', 'same-origin');
  // Static hosts often serve wasm with a generic type; streaming compilation needs this one.
  if (url.pathname.endsWith('.wasm')) headers.set('Content-Type', 'application/wasm');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
