// `make bench`'s browser_wasi_shim side: runs one WASI program in this
// Worker with @bjorn3/browser_wasi_shim (no capabilities, no kernel) and
// posts what it printed.
import { WASI, File, OpenFile, ConsoleStdout } from '/vendor/browser_wasi_shim/index.js';

self.onmessage = ({ data }) => {
  runProgram(data).catch((err) => self.postMessage({ error: String(err?.stack || err) }));
};

async function runProgram({ url, args }) {
  const out = [];
  const fds = [
    new OpenFile(new File([])),
    ConsoleStdout.lineBuffered((line) => out.push(line)),
    ConsoleStdout.lineBuffered((line) => out.push(`stderr: ${line}`)),
  ];
  const wasi = new WASI(['program', ...args], [], fds);
  const module = await WebAssembly.compileStreaming(fetch(url));
  const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi.wasiImport });
  const code = wasi.start(instance);
  self.postMessage({ code, stdout: out });
}
