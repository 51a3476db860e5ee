// One boot: a kernel Worker, the request it was started with, and the view
// models it publishes, rendered. Starting another boot ends this one (the
// kernel takes every process Worker with it).

import { setStatus, showFatal } from './status.js';
import { checkKernelEvent } from '../shared/messages.js';
import { base64 } from '../shared/bytes.js';
import { serveClipboard } from './clipboard.js';
import { startKernel } from '../early.js';

// A headless driver (capos boot/run, the end-to-end tests) may expose this to
// follow the boot; a person's browser doesn't have it.
// As JSON text: a driver gets it in one piece (capos-cli/driver/report.mjs).
export const report = (event) => globalThis.__caposReport?.(JSON.stringify(event));


// `kernel`: a kernel Worker started in advance (by a page standing by), or
// a new one.
// `inspector`: the panel that renders the kernel's inspector view models
// (its `wanted()` goes with the boot request, so the first snapshot is not
// missed).
export function startSession({ terminal, processList, inspector, runtimeProgress, display, files, preview, status, fatal, request, label, kernel = startKernel() }) {
  const bootStarted = performance.now();
  setStatus(status, `booting ${label}…`);
  // Only for a driver's diagnostics (a timeout says how far a boot got).
  report({ kind: 'booting', label });

  const fail = (kind, message) => {
    kernel.terminate(); // No recovery: a dead kernel takes every Worker with it.
    processList.kernelDied();
    showFatal(fatal, message);
    setStatus(status, kind === 'panic' ? 'KERNEL PANIC: system halted' : 'boot failed', 'bad');
    report({ kind, message });
  };

  // Programs write bytes; a UTF-8 character may be split across writes, so
  // each process's stream is decoded as a stream (invalid bytes show as
  // U+FFFD on screen only; a driver gets the bytes themselves).
  const decoders = new Map();
  const decode = (pid, stream, bytes) => {
    const key = `${pid}:${stream}`;
    if (!decoders.has(key)) decoders.set(key, new TextDecoder('utf-8'));
    return decoders.get(key).decode(bytes, { stream: true });
  };

  // File requests waiting for their answer, by id.
  const waiting = new Map();
  let nextId = 1;

  kernel.onmessage = ({ data }) => {
    const problem = checkKernelEvent(data);
    if (problem) return fail('panic', `malformed message from the kernel Worker: ${problem}`);
    switch (data.type) {
      case 'console': {
        const text = decode(data.pid, data.stream, data.data);
        if (data.stream === 'stderr') terminal.writeError(text);
        else terminal.write(text);
        report({ kind: 'console', pid: data.pid, stream: data.stream, text, data: base64(data.data), atMs: performance.now() });
        break;
      }
      case 'processes':
        processList.live(data.processes);
        report({ kind: 'processes', processes: data.processes });
        break;
      case 'inspector':
        inspector.snapshot(data);
        break;
      case 'trace':
        inspector.trace(data);
        break;
      case 'workers':
        report({ kind: 'workers', live: data.live });
        break;
      case 'runtime':
        runtimeProgress.update(data);
        report({ ...data, kind: 'runtime' });
        break;
      case 'processExited':
        // A character left unfinished at exit shows as U+FFFD.
        for (const stream of ['stdout', 'stderr']) {
          const rest = decoders.get(`${data.pid}:${stream}`)?.decode();
          if (rest) terminal.write(rest);
          decoders.delete(`${data.pid}:${stream}`);
        }
        processList.ended(data.pid, data.name, data.state, data.code);
        report({ kind: 'processExited', pid: data.pid, name: data.name, code: data.code, reason: data.reason });
        break;
      case 'filesystems':
        // What the mounted directories hold as the system halts: for
        // `capos run --dir` to write back to the host.
        report({ kind: 'filesystems', mounts: data.mounts });
        break;
      case 'clipboard':
        serveClipboard(data, (answer) => kernel.postMessage(answer));
        report({ kind: 'clipboard', op: data.op });
        break;
      case 'displayOpen':
        display.open(data, (answer) => kernel.postMessage(answer));
        report({ kind: 'display', width: data.width, height: data.height });
        break;
      case 'displayFrame':
        display.frame(data);
        break;
      case 'displayClose':
        display.close(data);
        break;
      case 'files':
        files.update(data);
        report({ kind: 'files', mounts: data.mounts });
        break;
      case 'filesAnswer':
        waiting.get(data.id)?.(data);
        waiting.delete(data.id);
        break;
      case 'storeFailed':
        files.storeFailed(data.store, data.message);
        terminal.line(`\x1b[33m[store "${data.store}": ${data.message}]\x1b[0m`);
        report({ kind: 'storeFailed', store: data.store, message: data.message });
        break;
      case 'project':
        terminal.line(`\x1b[2m[${data.name}: a ${data.language} project, copied into /home/${data.name} and run as ${data.command}]\x1b[0m`);
        report({ kind: 'project', name: data.name, language: data.language, command: data.command });
        break;
      case 'listening':
        preview.listening(data.ports);
        report({ kind: 'listening', ports: data.ports });
        break;
      case 'halted': {
        const ms = Math.round(performance.now() - bootStarted);
        terminal.line(`\x1b[2m[system halted: ${data.reason}]\x1b[0m`);
        setStatus(status, `halted: ${data.reason} (${ms} ms after boot)`, data.code === 0 ? 'ok' : 'bad');
        report({ kind: 'halted', code: data.code, reason: data.reason });
        break;
      }
      case 'bootError':
        fail('bootError', `cannot boot ${label}: ${data.message}`);
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
  kernel.postMessage({ ...request, inspect: inspector.wanted() });
  setStatus(status, `running ${label}`);

  const encoder = new TextEncoder();
  return {
    input(input) {
      const data = input instanceof Uint8Array ? input : encoder.encode(String(input));
      kernel.postMessage({ type: 'stdin', data });
    },
    endInput: () => kernel.postMessage({ type: 'stdinEof' }),
    inspect: (wanted) => kernel.postMessage({ type: 'inspect', ...wanted }),
    watchFiles: (on) => kernel.postMessage({ type: 'watchFiles', on }),
    // A connection to one of the system's ports: its MessagePort goes to
    // the kernel Worker unread (the preview's service worker, or the CLI's
    // TCP bridge, is on the other end).
    connect: (port, peer, channel) => kernel.postMessage({ type: 'netConnect', port, peer, channel }, [channel]),
    // A port on which the preview's service worker asks this kernel for
    // connections directly (see web/net/service-link.js).
    connector: (channel) => kernel.postMessage({ type: 'netConnector', channel }, [channel]),
    // A file request ({type: 'readFiles' | 'editFiles', ...}); resolves
    // with the kernel's answer.
    files: (message) => new Promise((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      const transfer = [...new Set((message.edits ?? []).map((e) => e.data?.buffer).filter(Boolean))];
      kernel.postMessage({ ...message, id }, transfer);
    }),
    stop: () => {
      for (const resolve of waiting.values()) resolve({ ok: false, message: 'the system was stopped' });
      waiting.clear();
      kernel.terminate();
    },
  };
}
