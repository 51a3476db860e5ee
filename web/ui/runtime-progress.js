// The bar shown while a language runtime loads: the download's bytes against
// its size, then "verified", then hidden once it is ready (or the reason it
// failed, kept in view).

const MB = 1024 * 1024;
const mb = (n) => (n / MB).toFixed(1);

export function createRuntimeProgress(root) {
  const label = root.querySelector('label');
  const bar = root.querySelector('progress');
  let hideTimer = null;
  const show = (text, value, failed = false) => {
    clearTimeout(hideTimer);
    root.hidden = false;
    root.classList.toggle('failed', failed);
    label.textContent = text;
    if (value === null) bar.removeAttribute('value');
    else bar.value = value;
  };
  return {
    update(event) {
      switch (event.phase) {
        case 'download':
          show(`downloading ${event.name}: ${mb(event.loaded)} of ${mb(event.total)} MB`, event.total ? event.loaded / event.total : null);
          break;
        case 'verified':
          show(`${event.name}: SHA-256 verified, compiling…`, null);
          break;
        case 'ready':
          show(`${event.name}: ${event.cached ? 'from the cache' : 'downloaded'}, ready in ${Math.round(event.ms)} ms`, 1);
          hideTimer = setTimeout(() => { root.hidden = true; }, 1500);
          break;
        case 'failed':
          show(`${event.name} not loaded: ${event.message}`, 0, true);
          break;
      }
    },
    reset() {
      clearTimeout(hideTimer);
      root.hidden = true;
    },
  };
}
