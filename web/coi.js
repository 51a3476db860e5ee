// The site's service worker (web/service-worker.js), from the page's side.
//
// When the page is not cross-origin isolated (served by a host that cannot
// send COOP/COEP), it is registered with ?isolate, which adds them, and the
// page reloads once. `isolateWithServiceWorker` resolves true when a reload
// is under way; false when the page must do without (no service workers,
// not a secure context, or it was tried already this session and isolation
// is still missing: the page then explains what is missing).
//
// The preview needs it too: `registerForPreview` registers it (keeping
// ?isolate if that is what controls the page) and resolves once it is
// active, or with null where there are no service workers.

const TRIED = 'capos-coi-reloaded';
const REGISTER_WITHIN_MS = 4000;
const SCRIPT = '/service-worker.js';

const register = (url) => navigator.serviceWorker.register(url, { scope: '/', type: 'module' });

export async function isolateWithServiceWorker() {
  if (globalThis.crossOriginIsolated || !('serviceWorker' in navigator) || !globalThis.isSecureContext) return false;
  if (sessionStorage.getItem(TRIED)) return false;
  // A browser that blocks service workers may leave these pending forever:
  // after a few seconds the page stops waiting and explains instead.
  const gaveUp = new Promise((resolve) => { setTimeout(() => resolve(false), REGISTER_WITHIN_MS); });
  const registered = (async () => {
    await register(`${SCRIPT}?isolate`);
    await navigator.serviceWorker.ready;
    return true;
  })().catch(() => false);
  if (!await Promise.race([registered, gaveUp])) return false;
  sessionStorage.setItem(TRIED, '1');
  location.reload();
  return true;
}

export async function registerForPreview() {
  if (!('serviceWorker' in navigator) || !globalThis.isSecureContext) return null;
  const current = navigator.serviceWorker.controller?.scriptURL ?? '';
  const url = new URL(current || SCRIPT, location.href).pathname === SCRIPT && current.includes('isolate')
    ? `${SCRIPT}?isolate`
    : SCRIPT;
  try {
    await register(url);
    return await navigator.serviceWorker.ready;
  } catch {
    return null;
  }
}
