// The main thread: untrusted UI. It starts a kernel Worker (ui/session.js),
// asks it to boot a manifest or run a dropped WASI program, and renders the
// view models the kernel publishes. It holds no capability and never sees a
// capability id.

import { createProcessList } from './ui/process-list.js';
import { createInspector } from './ui/inspector/panel.js';
import { createTour } from './ui/tour.js';
import { createRuntimeProgress } from './ui/runtime-progress.js';
import { createDisplay } from './ui/display.js';
import { createFiles, pickFolder } from './ui/files.js';
import { createTransfer } from './ui/transfer.js';
import { readDropped } from './ui/folder-reader.js';
import { setStatus, showFatal } from './ui/status.js';
import { report, startSession } from './ui/session.js';
import { takeEarlyKernel } from './early.js';
import { isolateWithServiceWorker } from './coi.js';
import { createPreview } from './ui/preview.js';
import { announceKernel, linkPreview } from './net/service-link.js';
import { DEMO_NAME, driverCalls, manifestUrlFrom, storeRequest } from './ui/driver.js';

const $ = (id) => document.getElementById(id);

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

// How far the page got, for a driver to read when a boot stalls.
const stage = (name) => { globalThis.__caposStage = name; };
stage('main.js loaded');

async function main() {
  stage('main started');
  // The terminal's module starts loading now (index.html preloads it) but is
  // awaited only once isolation is confirmed, so that check never depends on it.
  const terminalModule = import('./ui/terminal.js');
  terminalModule.catch(() => {}); // Reported below, where it is awaited.
  const status = $('status');
  const fatal = $('fatal');
  const params = new URLSearchParams(location.search);
  const target = manifestUrlFrom(params);
  fillDemoSelector($('demo'), target.name ?? 'hello');
  const processList = createProcessList($('processes').tBodies[0]);
  const runtimeProgress = createRuntimeProgress($('runtime-progress'));
  const display = createDisplay({
    pane: $('display-pane'), canvas: $('display'), closeButton: $('display-close'), caption: $('display-caption'),
  });
  let session = null;
  const preview = createPreview({
    pane: $('preview-pane'), frame: $('preview-frame'), address: $('preview-address'), form: $('preview-form'),
    reload: $('preview-reload'), close: $('preview-close'), open: $('preview-open'), toggle: $('preview-toggle'),
  });
  const transfer = createTransfer($('transfer'));
  const files = createFiles($('files'), {
    request: (message) => session ? session.files(message) : Promise.resolve({ ok: false, message: 'nothing is running' }),
    progress: transfer,
  });
  // The file browser: shown with ?files=1 or its button; the kernel sends
  // views only while it is shown.
  const filesPane = $('files-pane');
  const filesToggle = $('files-toggle');
  const showFiles = (on) => {
    filesPane.hidden = !on;
    filesToggle.setAttribute('aria-pressed', String(on));
    session?.watchFiles(on);
  };
  filesToggle.addEventListener('click', () => showFiles(filesPane.hidden));
  $('files-upload-folder').addEventListener('click', () => files.uploadFolder());
  $('files-upload-files').addEventListener('click', () => files.uploadFiles());
  // Where persistent directories live: ?store=idb tries IndexedDB where
  // OPFS would do.
  const store = storeRequest(params.get('store'));
  // ?inspector=off hides the inspector (the kernel then builds none of it).
  const inspectorRoot = $('inspector');
  inspectorRoot.hidden = params.get('inspector') === 'off';
  const inspector = createInspector(inspectorRoot, { setInspect: (wanted) => session?.inspect(wanted) });
  const toggle = $('inspector-toggle');
  const showInspector = (on) => {
    inspector.show(on);
    toggle.setAttribute('aria-pressed', String(on));
    document.body.classList.toggle('inspecting', on);
  };
  showInspector(!inspectorRoot.hidden);
  toggle.addEventListener('click', () => showInspector(inspectorRoot.hidden));
  if (params.get('inspector') === 'trace') inspector.tab('trace');

  // A host that cannot send COOP/COEP (a plain static host): the site's
  // service worker adds them, after one reload.
  if (await isolateWithServiceWorker()) return;
  if (!globalThis.crossOriginIsolated) {
    const why = 'This page is not cross-origin isolated, so the browser withholds SharedArrayBuffer and ' +
      'Atomics.wait, which capOS uses for every process\'s capability ring.\n' +
      'Serve it with the headers\n  Cross-Origin-Opener-Policy: same-origin\n  Cross-Origin-Embedder-Policy: require-corp\n' +
      '(`make run` or `capos serve` do), or let the site\'s service worker add them: it needs a secure context ' +
      '(https, or localhost) and service workers allowed.';
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

  // The kernel Worker web/early.js started as the page began to load (and
  // its spare process Worker): the first boot uses it.
  let spareKernel = takeEarlyKernel();

  // The preview's service worker: registered while the terminal loads.
  // ?preview=off (a headless `capos` run, which reaches its ports over
  // TCP instead) neither registers it nor opens the pane.
  const previewLinked = params.get('preview') === 'off'
    ? Promise.resolve(preview.setAvailable(false))
    : linkPreview(() => session).then((on) => preview.setAvailable(on));

  let terminal;
  try {
    stage('loading the terminal');
    const { createTerminal } = await terminalModule;
    stage('creating the terminal');
    terminal = createTerminal($('terminal'));
    stage('terminal ready');
  } catch (err) {
    const why = `cannot load the terminal (xterm.js): ${err.message}`;
    showFatal(fatal, why);
    setStatus(status, 'cannot boot: terminal failed to load', 'bad');
    report({ kind: 'fatal', message: why });
    return;
  }

  const boot = (request, label) => {
    session?.stop();
    fatal.hidden = true;
    processList.clear();
    inspector.reset();
    runtimeProgress.reset();
    display.reset();
    files.reset();
    preview.reset();
    terminal.reset();
    const kernel = spareKernel ?? undefined;
    spareKernel = null;
    // Every page boot holds the persistent "home" for the file browser;
    // only the programs run from the page (and manifests that mount it)
    // are granted it.
    const full = { home: true, ...store, ...request };
    session = startSession({ terminal, processList, inspector, runtimeProgress, display, files, preview, status, fatal, request: full, label, kernel });
    const booted = session;
    previewLinked.then(() => announceKernel(booted));
    if (!filesPane.hidden) session.watchFiles(true);
  };
  terminal.onInput((line) => session?.input(line), () => session?.endInput());
  // For DevTools and the headless driver: read what the terminal shows, and
  // send input exactly as typing would. Neither holds any authority.
  globalThis.capos = Object.freeze({
    terminalText: () => terminal.text(),
    // input, endInput, net and boot: ui/driver.js.
    ...driverCalls(() => session, boot, report),
    // The inspector's view models as the panel holds them (tests, DevTools).
    inspectorSnapshots: () => inspector.snapshots(),
    inspectorShowStep: (i) => inspector.showStep(i),
    inspectorSelect: (pid) => inspector.select(pid),
    // Shows or hides the file browser (what its button does).
    showFiles: (on) => showFiles(Boolean(on)),
    // Starts a runtime (python, qjs) with arguments, or with none its REPL
    // (what its header button does).
    runRuntime: (runtime, args = []) => startRuntime(String(runtime), Array.from(args, String)),
    // Runs a WASI program's bytes with arguments, as the "run" form does.
    runProgram: (name, bytes, args = []) => boot({ type: 'bootWasi', name: String(name), program: new Uint8Array(bytes),
      argv: [String(name), ...Array.from(args, String)], env: [] }, String(name)),
  });

  if (params.has('standby')) {
    setStatus(status, 'standing by for a boot');
  } else if (params.has('tour')) {
    // ?tour=1: the guided tour, from its first step (?tour=N: step N).
    const tour = createTour($('tour'), {
      start: (step) => {
        showInspector(true);
        inspector.tab(step.tab);
        globalThis.capos.boot(step.demo);
      },
    });
    tour.go((Number.parseInt(params.get('tour'), 10) || 1) - 1);
  } else {
    boot({ type: 'boot', manifestUrl: target.url }, target.name);
  }

  $('boot-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const name = $('demo').value;
    if (DEMO_NAME.test(name)) location.search = `?manifest=${encodeURIComponent(name)}`;
  });
  // A .wasm runs as it is; a script runs with the runtime its extension
  // names, from /data where it is put.
  const runFile = async (file) => {
    const envField = $('wasm-env');
    const env = splitArgs(envField.value);
    const bad = env.find((entry) => !ENV_ENTRY.test(entry));
    envField.setCustomValidity(bad === undefined ? '' : `not KEY=VALUE: ${bad}`);
    if (!envField.reportValidity()) return;
    const bytes = new Uint8Array(await file.arrayBuffer());
    const args = splitArgs($('wasm-args').value);
    const runtime = SCRIPT_RUNTIMES[file.name.match(/\.[a-z]+$/i)?.[0].toLowerCase()];
    if (runtime) {
      const script = `/data/${file.name}`;
      boot({ type: 'bootWasi', name: file.name, runtime, file: { name: file.name, data: bytes }, argv: [runtime, script, ...args], env }, `${runtime} ${file.name}`);
    } else {
      boot({ type: 'bootWasi', name: file.name, program: bytes, argv: [file.name, ...args], env }, file.name);
    }
  };
  // A runtime with arguments; with none, its REPL.
  const startRuntime = (runtime, args = []) => boot({ type: 'bootWasi', name: runtime, runtime, argv: [runtime, ...args], env: [] },
    args.length ? `${runtime} ${args.join(' ')}` : `${runtime} REPL`);
  for (const button of document.querySelectorAll('#repls button')) {
    button.addEventListener('click', () => {
      startRuntime(button.dataset.runtime);
      $('terminal').querySelector('textarea')?.focus();
    });
  }
  $('wasm-env').addEventListener('input', () => $('wasm-env').setCustomValidity(''));
  $('run-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const file = $('wasm-file').files[0];
    if (file) runFile(file);
  });
  const pane = $('terminal-pane');
  pane.addEventListener('dragover', (event) => event.preventDefault());
  pane.addEventListener('drop', (event) => {
    event.preventDefault();
    const item = [...event.dataTransfer.items].find((i) => i.kind === 'file');
    const entry = item?.webkitGetAsEntry?.();
    if (entry?.isDirectory) {
      readFolder(readDropped(event.dataTransfer, readProgress)).then(runProject);
      return;
    }
    const file = event.dataTransfer.files[0];
    if (file) runFile(file);
  });
  // A project folder: read, copied into /home/<its name> by the kernel,
  // and run with what its files say it is (the kernel decides).
  const readProgress = (done, total) => transfer.show('reading the folder', done, total);
  const readFolder = (reading) => reading.then((read) => {
    transfer.hide();
    return read;
  }, (err) => {
    transfer.hide();
    if (err?.name !== 'AbortError') {
      showFatal(fatal, `cannot read the folder: ${err.message}`);
    }
    return null;
  });
  const runProject = (read) => {
    if (!read) return;
    const name = read.name.replace(/[\/\x00-\x1f]/g, '_').replace(/^\.\.?$/, '_') || 'project';
    if (read.skipped.length) {
      report({ kind: 'skipped', files: read.skipped });
    }
    boot({ type: 'bootProject', name, files: read.files, args: splitArgs($('wasm-args').value), env: splitArgs($('wasm-env').value) },
      `project ${name}`);
    if (read.skipped.length) {
      terminal.line(`\x1b[33m[skipped ${read.skipped.length}: ${read.skipped.slice(0, 10).map((s) => `${s.path} (${s.reason})`).join('; ')}]\x1b[0m`);
    }
  };
  $('open-project').addEventListener('click', () => readFolder(pickFolder(transfer)).then(runProject));
  if (params.get('files') === '1') showFiles(true);
}

// Which runtime runs a dropped script.
const SCRIPT_RUNTIMES = { '.py': 'python', '.js': 'qjs', '.mjs': 'qjs' };

// An environment entry: a name without "=", then "=", then anything.
const ENV_ENTRY = /^[^=]+=/;

// Arguments as a shell would split them: on spaces, with "double" or
// 'single' quotes keeping spaces in.
function splitArgs(text) {
  const args = [];
  for (const m of text.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) args.push(m[1] ?? m[2] ?? m[3]);
  return args;
}

main();
