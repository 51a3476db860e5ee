// The site's service worker. Two jobs:
// - The preview: a request for /preview/<port>/<path> is answered by the
//   capOS process listening on <port> in a page of this site
//   (web/net/preview.js).
// - Cross-origin isolation on a host that cannot set headers (a plain
//   static host, `capos build-site`'s output), when registered with
//   ?isolate: the headers SharedArrayBuffer needs are added to every
//   same-origin response, as the site server (capos-cli/src/serve.rs) sends
//   them. The page registers it and reloads once (web/coi.js); the kernel
//   Worker gets `credentialless`, as from the server, so its Fetch can tell
//   CORS refusals from network failures. Cross-origin requests (a process's
//   Fetch) pass through untouched.

import { errorPage, previewResponse } from './net/preview.js';

const ISOLATE = new URL(self.location.href).searchParams.has('isolate');
const PREVIEW = /^\/preview\/(\d{1,5})(\/.*)?$/;

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

// Pages that run a kernel say so when they boot, with a port to their kernel
// Worker (a connector); newest last.
let kernelPageIds = [];
const connectors = new Map(); // page client id -> MessagePort to its kernel Worker
self.addEventListener('message', (event) => {
  if (event.data?.type !== 'capos-kernel-page' || !event.source?.id) return;
  kernelPageIds = kernelPageIds.filter((id) => id !== event.source.id);
  kernelPageIds.push(event.source.id);
  const connector = event.ports?.[0];
  if (connector instanceof MessagePort) connectors.set(event.source.id, connector);
});

// Where a page's connections are asked for: its kernel Worker's connector,
// or (none known) the page itself, which hands them on.
const target = (client) => {
  const connector = connectors.get(client.id);
  if (!connector) return client;
  return { postMessage: (message, transfer) => connector.postMessage({ t: 'connect', port: message.port }, transfer) };
};

// Candidates for a connection, newest first: the pages that said they run a
// kernel and are still open, then (this worker may have been restarted and
// forgotten them) every other window of the site that is not a preview.
async function kernelPages() {
  const known = [];
  for (const id of [...kernelPageIds].reverse()) {
    const client = await self.clients.get(id);
    if (client) known.push(client);
  }
  kernelPageIds = known.map((c) => c.id).reverse();
  for (const id of connectors.keys()) if (!kernelPageIds.includes(id)) connectors.delete(id);
  const others = (await self.clients.matchAll({ type: 'window' }))
    .filter((c) => !known.some((k) => k.id === c.id) && !new URL(c.url).pathname.startsWith('/preview/'));
  return [...known.map(target), ...others];
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const preview = PREVIEW.exec(url.pathname);
  if (preview) {
    const port = Number(preview[1]);
    if (port < 1 || port > 65535) {
      event.respondWith(errorPage(400, 'No such port', `${preview[1]} is not a port (1-65535).`));
      return;
    }
    event.respondWith(previewResponse(request, port, (preview[2] ?? '/') + url.search, kernelPages)
      .catch((err) => errorPage(502, 'Preview failed', String(err?.message ?? err))));
    return;
  }
  if (!ISOLATE) return;
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
