// The preview pane: an iframe showing /preview/<port>/<path>, which the
// site's service worker answers with the capOS process listening on that
// port. It opens itself when a boot listens on a port. Pages shown run no
// scripts (the service worker's CSP): they would run as this site.

const ADDRESS = /^\/preview\/(\d{1,5})(\/.*)?$/;

export function createPreview({ pane, frame, address, form, reload, close, open, toggle }) {
  let available = false;
  // Ports a boot listens on, heard before the service worker was ready.
  let pending = null;
  const show = (on) => {
    pane.hidden = !on;
    toggle.setAttribute('aria-pressed', String(on));
  };
  const go = (path) => {
    if (!ADDRESS.test(path)) {
      address.setCustomValidity('an address like /preview/8080/index.html');
      address.reportValidity();
      return;
    }
    address.setCustomValidity('');
    address.value = path;
    open.href = path;
    frame.src = path;
    show(true);
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    go(address.value.trim());
  });
  reload.addEventListener('click', () => go(address.value.trim()));
  close.addEventListener('click', () => show(false));
  toggle.addEventListener('click', () => (pane.hidden ? go(address.value.trim()) : show(false)));
  // Links followed inside the frame show up in the address field.
  frame.addEventListener('load', () => {
    try {
      const path = frame.contentWindow.location.pathname + frame.contentWindow.location.search;
      if (ADDRESS.test(path)) {
        address.value = path;
        open.href = path;
      }
    } catch { /* not loaded yet */ }
  });
  return {
    // Sets up the preview (false: this browser has no service workers).
    setAvailable(on) {
      available = on;
      if (on && pending) this.listening(pending);
      pending = null;
      toggle.disabled = !on;
      toggle.title = on ? 'Show or hide the preview: pages served by the processes listening on ports'
        : 'The preview needs service workers, which this browser does not allow here';
    },
    // A boot listens on `ports`: show the first.
    listening(ports) {
      if (!available) pending = ports;
      if (!available || ports.length === 0) return;
      go(`/preview/${ports[0]}/`);
    },
    reset() {
      pending = null;
      frame.removeAttribute('src');
      show(false);
    },
    go,
  };
}
