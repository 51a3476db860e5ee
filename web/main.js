// The main thread: untrusted UI. It starts the kernel Worker, asks it to
// boot a manifest, and renders the view models the kernel publishes. It
// holds no capability and never sees a capability id.

import { createProcessList } from './ui/process-list.js';
import { setStatus, showFatal } from './ui/status.js';
import { checkKernelEvent } from './shared/messages.js';

const DEMO_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
const $ = (id) => document.getElementById(id);

// A headless driver (capos boot, the end-to-end tests) may expose this to
// follow the boot; a person's browser doesn't have it.
const report = (event) => globalThis.__caposReport?.(event);

function manifestUrlFrom(params) {
  const requested = params.get('manifest') ?? 'hello';
  if (DEMO_NAME.test(requested)) return { name: requested, url: `/manifests/${requested}.bin` };
  if (requested.startsWith('/') && !requested.startsWith('//')) return { name: requested, url: requested };
  return { error: `"${requested}" is neither a demo name nor a path on this site` };
}

async function fillDemoSelector(select, current) {
  try {
    const response = await fetch('/manifests/index.json');
    const names = (await response.json()).filter((n) => typeof n === 'string' && DEMO_NAME.test(n));
    if (!names.includes(current)) names.unshift(current);
    select.replaceChildren(...names.map((n) => new Option(n, n, false, n === current)));
  } catch {
    select.replaceChildren(new Option(current, current, true, true));
  }
}

async function main() {
  const status = $('status');
  const fatal = $('fatal');
  const params = new URLSearchParams(location.search);
  const target = manifestUrlFrom(params);
  fillDemoSelector($('demo'), target.name ?? 'hello');
  const processList = createProcessList($('processes').tBodies[0]);

  if (!globalThis.crossOriginIsolated) {
    const why = 'This page is not cross-origin isolated, so the browser withholds SharedArrayBuffer and ' +
      'Atomics.wait, which capOS uses for every process\'s capability ring.\n' +
      'Serve it with the headers\n  Cross-Origin-Opener-Policy: same-origin\n  Cross-Origin-Embedder-Policy: require-corp\n' +
      '(`make run` or `capos serve` do).';
    showFatal(fatal, why);
    setStatus(status, 'cannot boot: not cross-origin isolated', 'bad');
    report({ kind: 'fatal', message: why });
    return;
  }
  if (target.error) {
    showFatal(fatal, target.error);
    setStatus(status, 'cannot boot: bad manifest parameter', 'bad');
    report({ kind: 'bootError', message: target.error });
    return;
  }

  let terminal;
  try {
    // Loaded only once isolation is confirmed, so that check never depends on it.
    const { createTerminal } = await import('./ui/terminal.js');
    terminal = createTerminal($('terminal'));
  } catch (err) {
    const why = `cannot load the terminal (xterm.js): ${err.message}`;
    showFatal(fatal, why);
    setStatus(status, 'cannot boot: terminal failed to load', 'bad');
    report({ kind: 'fatal', message: why });
    return;
  }
  const kernel = new Worker('/kernel/kernel-worker.js', { type: 'module', name: 'capOS kernel' });
  const bootStarted = performance.now();
  setStatus(status, `booting ${target.name}…`);

  const fail = (kind, message) => {
    kernel.terminate(); // No recovery: a dead kernel takes every Worker with it.
    processList.kernelDied();
    showFatal(fatal, message);
    setStatus(status, kind === 'panic' ? 'KERNEL PANIC: system halted' : 'boot failed', 'bad');
    report({ kind, message });
  };

  kernel.onmessage = ({ data }) => {
    const problem = checkKernelEvent(data);
    if (problem) return fail('panic', `malformed message from the kernel Worker: ${problem}`);
    switch (data.type) {
      case 'console':
        if (data.stream === 'stderr') terminal.writeError(data.text);
        else terminal.write(data.text);
        report({ kind: 'console', pid: data.pid, stream: data.stream, text: data.text, atMs: performance.now() });
        break;
      case 'processes':
        processList.live(data.processes);
        report({ kind: 'processes', processes: data.processes });
        break;
      case 'workers':
        report({ kind: 'workers', live: data.live });
        break;
      case 'processExited':
        processList.ended(data.pid, data.name, data.code);
        report({ kind: 'processExited', pid: data.pid, name: data.name, code: data.code, reason: data.reason });
        break;
      case 'halted': {
        const ms = Math.round(performance.now() - bootStarted);
        terminal.line(`\x1b[2m[system halted: ${data.reason}]\x1b[0m`);
        setStatus(status, `halted: ${data.reason} (${ms} ms after boot)`, data.code === 0 ? 'ok' : 'bad');
        report({ kind: 'halted', code: data.code, reason: data.reason });
        break;
      }
      case 'bootError':
        fail('bootError', `cannot boot ${target.name}: ${data.message}`);
        break;
      case 'panic':
        fail('panic', data.message);
        break;
    }
  };
  kernel.onerror = (event) => {
    event.preventDefault();
    fail('panic', `kernel Worker failed to load: ${event.message || 'unknown error'}`);
  };
  const encoder = new TextEncoder();
  const sendInput = (input) => {
    const data = input instanceof Uint8Array ? input : encoder.encode(String(input));
    kernel.postMessage({ type: 'stdin', data });
  };
  const endInput = () => kernel.postMessage({ type: 'stdinEof' });
  terminal.onInput(sendInput, endInput);
  // For DevTools and the headless driver: read what the terminal shows, and
  // send input exactly as typing would. Neither holds any authority.
  globalThis.capos = Object.freeze({
    terminalText: () => terminal.text(),
    input: (input) => sendInput(input),
    endInput,
  });
  kernel.postMessage({ type: 'boot', manifestUrl: target.url });
  setStatus(status, `running ${target.name}`);

  $('boot-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const name = $('demo').value;
    if (DEMO_NAME.test(name)) location.search = `?manifest=${encodeURIComponent(name)}`;
  });
}

main();
