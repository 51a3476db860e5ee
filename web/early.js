// The first script a page runs (index.html loads it before main.js, async):
// starts the kernel Worker at once, so that loading and compiling the kernel
// and a spare process Worker overlap with loading the UI's modules and the
// terminal instead of following them. main.js takes it for its first boot.
// Only on a cross-origin isolated page: elsewhere main.js first makes the
// page isolated (or says why it cannot), and no kernel can run yet.

const KERNEL_URL = '/kernel/kernel-worker.js';

export const startKernel = () => new Worker(KERNEL_URL, { type: 'module', name: 'capOS kernel' });

let early = null;
if (globalThis.crossOriginIsolated) {
  early = startKernel();
  // A page that runs WASI programs (<meta name="capos-prewarm"
  // content="shim">: the headless page) also compiles the WASI shim now. The
  // demo page boots a demo, which may not need it, and its compile would
  // compete with the boot.
  const shim = document.querySelector('meta[name="capos-prewarm"]')?.content === 'shim';
  early.postMessage({ type: 'prewarm', shim });
}

// The kernel Worker started above, once (null if none was, or it was taken).
export function takeEarlyKernel() {
  const kernel = early;
  early = null;
  return kernel;
}
