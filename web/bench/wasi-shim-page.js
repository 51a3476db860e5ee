// Runs ?program=URL (&arg=..., &preopen=/dir) in a Worker under browser_wasi_shim and reports its output.
const params = new URLSearchParams(location.search);
globalThis.__caposReport?.({ kind: 'started' }); // The driver reloads a page that never says anything.
const worker = new Worker('/bench/wasi-shim-worker.js', { type: 'module', name: 'browser_wasi_shim' });
worker.onmessage = ({ data }) => globalThis.__caposReport?.(
  data.error ? { kind: 'fatal', message: data.error } : { kind: 'wasiShim', ...data });
worker.onerror = (e) => globalThis.__caposReport?.({ kind: 'fatal', message: e.message });
worker.postMessage({ url: params.get('program'), args: params.getAll('arg'), preopen: params.get('preopen') });
