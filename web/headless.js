// The headless page (headless.html): what `capos boot` and `capos run` load.
// It boots ?manifest= at once, or, with ?standby (a page a warm `capos run`
// keeps ready), the manifest a driver names with capos.boot(). Processes'
// output reaches the driver as report events (ui/session.js), so nothing is
// rendered but a Display's frames; it holds no authority, as the page does not.

import { report, startSession } from './ui/session.js';
import { takeEarlyKernel } from './early.js';
import { createDisplay } from './ui/display.js';
import { driverCalls, manifestUrlFrom, storeRequest } from './ui/driver.js';
import { setStatus, showFatal } from './ui/status.js';

const $ = (id) => document.getElementById(id);
const ignore = () => {};
// The page's views, for what this page does not show.
const unseen = {
  terminal: { write: ignore, writeError: ignore, line: ignore },
  processList: { live: ignore, ended: ignore, kernelDied: ignore },
  inspector: { wanted: () => ({ graph: false, trace: false }), snapshot: ignore, trace: ignore },
  runtimeProgress: { update: ignore },
  files: { update: ignore, storeFailed: ignore },
  preview: { listening: ignore },
};

function main() {
  const params = new URLSearchParams(location.search);
  const status = $('status');
  const fatal = $('fatal');
  const fail = (kind, message) => {
    showFatal(fatal, message);
    setStatus(status, 'cannot boot', 'bad');
    report({ kind, message });
  };
  // The CLI's server sends COOP/COEP; without them no kernel can run.
  if (!globalThis.crossOriginIsolated) {
    fail('fatal', 'This page is not cross-origin isolated, so the browser withholds SharedArrayBuffer and Atomics.wait.');
    return;
  }
  const display = createDisplay({
    pane: $('display-pane'), canvas: $('display'), closeButton: $('display-close'), caption: $('display-caption'),
  });
  const store = storeRequest(params.get('store'));
  let session = null;
  const boot = (request, label) => {
    if (session) {
      report({ kind: 'bootError', message: 'this page has booted once already: load it again' });
      return;
    }
    const kernel = takeEarlyKernel() ?? undefined;
    session = startSession({ ...unseen, display, status, fatal, request: { home: true, ...store, ...request }, label, kernel });
  };
  globalThis.capos = Object.freeze(driverCalls(() => session, boot, report));
  if (params.has('standby')) {
    setStatus(status, 'standing by for a boot');
    return;
  }
  const target = manifestUrlFrom(params);
  if (target.error) fail('bootError', target.error);
  else boot({ type: 'boot', manifestUrl: target.url }, target.name);
}

main();
