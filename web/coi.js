// When the page is not cross-origin isolated (served by a host that cannot
// send COOP/COEP), registers web/coi-serviceworker.js, which adds them, and
// reloads once. Resolves true when a reload is under way; false when the
// page must do without (no service workers, not a secure context, or it was
// tried already this session and isolation is still missing: the page then
// explains what is missing).

const TRIED = 'capos-coi-reloaded';
const REGISTER_WITHIN_MS = 4000;

export async function isolateWithServiceWorker() {
  if (globalThis.crossOriginIsolated || !('serviceWorker' in navigator) || !globalThis.isSecureContext) return false;
  if (sessionStorage.getItem(TRIED)) return false;
  // A browser that blocks service workers may leave these pending forever:
  // after a few seconds the page stops waiting and explains instead.
  const gaveUp = new Promise((resolve) => { setTimeout(() => resolve(false), REGISTER_WITHIN_MS); });
  const registered = (async () => {
    await navigator.serviceWorker.register('/coi-serviceworker.js', { scope: '/' });
    await navigator.serviceWorker.ready;
    return true;
  })().catch(() => false);
  if (!await Promise.race([registered, gaveUp])) return false;
  sessionStorage.setItem(TRIED, '1');
  location.reload();
  return true;
}
