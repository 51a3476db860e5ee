// What the page's URL and a driver (`capos boot`/`run`, the end-to-end tests,
// DevTools) ask of a page: shared by the page (main.js) and the headless page
// (headless.js). Checked here, before anything reaches the kernel.

import { createBridge } from '../net/bridge.js';

export const DEMO_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
const STORE_BACKENDS = ['opfs', 'idb', 'memory'];

// ?manifest=NAME (a demo) or ?manifest=/path (a manifest on this site).
export function manifestUrlFrom(params) {
  const requested = params.get('manifest') ?? 'hello';
  if (DEMO_NAME.test(requested)) return { name: requested, url: `/manifests/${requested}.bin` };
  if (requested.startsWith('/') && !requested.startsWith('//')) return { name: requested, url: requested };
  return { error: `"${requested}" is neither a demo name nor a path on this site` };
}

// Where persistent directories live, if `name` picks a place (?store=, or a
// driver's option): their contents are read back at the halt, for a driver
// to write back. Anything else leaves the choice to the kernel.
export const storeRequest = (name) => (STORE_BACKENDS.includes(name) ? { store: name, readBack: true } : {});

// `capos.boot(manifest, options)`: boots a demo by name or a manifest at a
// path on this site with `boot(request, label)`, as ?manifest= does without
// loading the page again; `options.store` picks where its persistent
// directories live. False (and a bootError reported) if the name is bad.
function bootFromDriver(manifest, options, boot, report) {
  const requested = manifestUrlFrom(new URLSearchParams({ manifest: String(manifest) }));
  if (requested.error) {
    report({ kind: 'bootError', message: requested.error });
    return false;
  }
  boot({ type: 'boot', manifestUrl: requested.url, ...storeRequest(options?.store) }, requested.name);
  return true;
}

// The calls a driver makes on either page (its `globalThis.capos`): input for
// the running system, TCP connections for it (`capos run --tcplisten`, relayed
// to the kernel: {t: 'open' | 'data' | 'end' | 'sent' | 'reset', conn, ...}),
// and boots. `session()` is the running session, or null; none holds
// authority.
export function driverCalls(session, boot, report) {
  return {
    input: (input) => session()?.input(input),
    endInput: () => session()?.endInput(),
    net: createBridge({
      connect: (port, peer, channel) => {
        const running = session();
        if (!running) return false;
        running.connect(port, peer, channel);
        return true;
      },
      report,
    }),
    boot: (manifest, options = {}) => bootFromDriver(manifest, options, boot, report),
  };
}
