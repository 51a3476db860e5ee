// `make bench`'s browser_wasi_shim side: runs one WASI program in this
// Worker with @bjorn3/browser_wasi_shim (no capabilities, no kernel) and
// posts what it printed. `preopen`, if given, is an empty in-memory
// directory preopened under that name (fd 3), like `capos run --dir`.
import { WASI, File, OpenFile, ConsoleStdout, PreopenDirectory } from '/vendor/browser_wasi_shim/index.js';

self.onmessage = ({ data }) => {
  const valid = typeof data?.url === 'string' && Array.isArray(data.args)
    && data.args.every((a) => typeof a === 'string')
    && (data.preopen === null || typeof data.preopen === 'string');
  if (!valid) {
    self.postMessage({ error: 'wasi-shim-worker: expected { url, args: string[], preopen: string | null }' });
    return;
  }
  runProgram(data).catch((err) => self.postMessage({ error: String(err?.stack || err) }));
};

async function runProgram({ url, args, preopen }) {
  const out = [];
  const fds = [
    new OpenFile(new File([])),
    ConsoleStdout.lineBuffered((line) => out.push(line)),
    ConsoleStdout.lineBuffered((line) => out.push(`stderr: ${line}`)),
  ];
  if (preopen) fds.push(new PreopenDirectory(preopen, new Map()));
  const wasi = new WASI(['program', ...args], [], fds);
  const module = await WebAssembly.compileStreaming(fetch(url));
  const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi.wasiImport });
  const code = wasi.start(instance);
  self.postMessage({ code, stdout: out });
}
