// Validators for every message that crosses a Worker boundary. Each returns
// an error string, or null when the message is well-formed. Nothing is
// trusted because of where it came from.

const MAX_TEXT = 1 << 20;

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isInt = (v, min, max) => Number.isInteger(v) && v >= min && v <= max;
const isText = (v, max = MAX_TEXT) => typeof v === 'string' && v.length <= max;
const U32 = 0xffffffff;
const I32_MIN = -0x80000000;
const I32_MAX = 0x7fffffff;

const isTextList = (v) => Array.isArray(v) && v.length <= 256 && v.every((s) => isText(s, 4096));

function check(ok, what) {
  return ok ? null : what;
}

const RUNTIME_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
// One path segment: not empty, no '/', not '.' or '..', no control characters.
const FILE_NAME = /^(?!\.\.?$)[^/\x00-\x1f]{1,255}$/;
const RUNTIME_PHASES = new Set(['download', 'verified', 'ready', 'failed']);

const isInspect = (v) => isObject(v) && typeof v.graph === 'boolean' && typeof v.trace === 'boolean';
const STORE_BACKENDS = new Set(['opfs', 'idb', 'memory']);
const FILE_EDITS = new Set(['write', 'mkdir', 'remove', 'rename']);
// A path inside a mount: relative, at most 4 KiB.
const isRelPath = (v) => isText(v, 4096) && !v.startsWith('/') && !v.includes('\0');
const fileEdit = (e) => isObject(e) && FILE_EDITS.has(e.op) && isRelPath(e.path) && e.path.length > 0
  && (e.op !== 'rename' || (isRelPath(e.to) && e.to.length > 0))
  && (e.op !== 'write' || (e.data instanceof Uint8Array && e.data.length <= 256 * MAX_TEXT));

// page -> kernel
export function checkPageMessage(m) {
  if (!isObject(m)) return 'page message must be an object';
  if (m.type === 'boot' || m.type === 'bootWasi' || m.type === 'bootProject') {
    if (m.inspect !== undefined && !isInspect(m.inspect)) return `${m.type}: inspect must be {graph: boolean, trace: boolean}`;
    if (m.home !== undefined && typeof m.home !== 'boolean') return `${m.type}: home must be a boolean`;
    if (m.store !== undefined && !STORE_BACKENDS.has(m.store)) return `${m.type}: store must be opfs, idb or memory`;
    if (m.readBack !== undefined && typeof m.readBack !== 'boolean') return `${m.type}: readBack must be a boolean`;
  }
  switch (m.type) {
    case 'inspect':
      return check(isInspect(m), 'inspect: {graph: boolean, trace: boolean}');
    case 'boot':
      return check(isText(m.manifestUrl, 2048) && m.manifestUrl.length > 0, 'manifestUrl must be a non-empty string');
    case 'stdin':
      return check(m.data instanceof Uint8Array && m.data.length <= MAX_TEXT, 'stdin data must be a Uint8Array of at most 1 MiB');
    case 'stdinEof':
      return null;
    case 'prewarm':
      return check(m.shim === undefined || typeof m.shim === 'boolean', 'prewarm: {shim?: boolean}');
    case 'netConnector':
      return check(m.channel instanceof MessagePort, 'netConnector: {channel: MessagePort}');
    case 'netConnect':
      return check(isInt(m.port, 1, 65535) && isText(m.peer, 64) && m.channel instanceof MessagePort,
        'netConnect: {port: 1-65535, peer: text of at most 64, channel: MessagePort}');
    case 'clipboardResult':
      if (!isInt(m.id, 1, U32) || typeof m.ok !== 'boolean') return 'clipboardResult: {id, ok, text | message}';
      if (m.ok) return check(m.text === undefined || isText(m.text), 'clipboardResult: text must be a string of at most 1 MiB');
      return check(isText(m.message, 4096), 'clipboardResult: a refusal needs a message of at most 4 KiB');
    case 'displayDrawn':
      return check(isInt(m.id, 1, U32), 'displayDrawn: {id}');
    case 'displayEvent':
      return check(isInt(m.id, 1, U32) && typeof m.closed === 'boolean' && isInt(m.width, 0, 16384)
        && isInt(m.height, 0, 16384), 'displayEvent: {id, closed, width, height}');
    case 'watchFiles':
      return check(typeof m.on === 'boolean', 'watchFiles: {on: boolean}');
    case 'readFiles':
      return check(isInt(m.id, 1, U32) && isInt(m.mount, 0, 255) && isRelPath(m.path), 'readFiles: {id, mount, path}');
    case 'editFiles':
      return check(isInt(m.id, 1, U32) && isInt(m.mount, 0, 255) && Array.isArray(m.edits) && m.edits.length <= 4096
        && m.edits.every(fileEdit), 'editFiles: {id, mount, edits: [{op, path, to?, data?}]} (a write at most 256 MiB)');
    case 'bootProject':
      if (!FILE_NAME.test(m.name)) return 'bootProject: name must be one path segment';
      if (!Array.isArray(m.files) || m.files.length > 100000 || !m.files.every((f) => isObject(f) && isRelPath(f.path)
        && f.path.length > 0 && f.data instanceof Uint8Array && f.data.length <= 256 * MAX_TEXT)) {
        return 'bootProject: files must be at most 100,000 {path (relative), data: Uint8Array of at most 256 MiB}';
      }
      return check(isTextList(m.args) && isTextList(m.env), 'bootProject: args and env must be lists of at most 256 strings');
    case 'bootWasi':
      if (!isText(m.name, 256)) return 'bootWasi: name must be a string';
      if (m.runtime !== undefined) {
        if (!RUNTIME_NAME.test(m.runtime)) return 'bootWasi: runtime must be a catalogue name';
        if (m.program !== undefined) return 'bootWasi: a runtime or a program, not both';
      } else if (!(m.program instanceof Uint8Array) || m.program.length > 64 * MAX_TEXT) {
        return 'bootWasi: program must be a Uint8Array of at most 64 MiB';
      }
      if (m.file !== undefined && !(isObject(m.file) && FILE_NAME.test(m.file.name)
        && m.file.data instanceof Uint8Array && m.file.data.length <= 64 * MAX_TEXT)) {
        return 'bootWasi: file must be {name, data: Uint8Array of at most 64 MiB}, its name one path segment';
      }
      if (!isTextList(m.argv) || !isTextList(m.env)) return 'bootWasi: argv and env must be lists of at most 256 strings';
      return null;
    default:
      return `unknown page message type ${JSON.stringify(String(m.type)).slice(0, 40)}`;
  }
}

// kernel -> process
export function checkStartMessage(m) {
  if (!isObject(m) || m.type !== 'start') return 'expected {type: "start", ...}';
  if (!isInt(m.pid, 1, U32)) return 'pid must be a positive integer';
  if (!(m.module instanceof WebAssembly.Module)) return 'module must be a WebAssembly.Module';
  if (!(m.ring instanceof SharedArrayBuffer)) return 'ring must be a SharedArrayBuffer';
  if (!(m.wake instanceof SharedArrayBuffer) || m.wake.byteLength < 8) return 'wake must be a SharedArrayBuffer of two words';
  if (!(m.capset instanceof Uint8Array)) return 'capset must be a Uint8Array';
  if (!(m.argv instanceof Uint8Array)) return 'argv must be a Uint8Array';
  if (!(m.env instanceof Uint8Array)) return 'env must be a Uint8Array';
  if (m.wasiShim !== null && !(m.wasiShim instanceof WebAssembly.Module)) return 'wasiShim must be a WebAssembly.Module or null';
  if (typeof m.trapUnknownImports !== 'boolean') return 'trapUnknownImports must be a boolean';
  if (!isInt(m.memoryLimitBytes, 65536, 2 ** 32)) return 'memoryLimitBytes must be between 64 KiB and 4 GiB';
  const word = (v) => isInt(v, 0, 508) && v % 4 === 0;
  if (!isObject(m.diagnostics) || !word(m.diagnostics.stage) || !word(m.diagnostics.waits)) {
    return 'diagnostics must name two ring header words';
  }
  return null;
}

// process -> kernel
export function checkProcessMessage(m) {
  if (!isObject(m)) return 'process message must be an object';
  switch (m.type) {
    case 'exit':
      return check(isInt(m.code, I32_MIN, I32_MAX), 'exit code must be a 32-bit integer');
    case 'panic':
    case 'trap':
    case 'failed':
      return check(isText(m.message, 64 * 1024), 'message must be a string of at most 64 KiB');
    default:
      return `unknown process message type ${JSON.stringify(String(m.type)).slice(0, 40)}`;
  }
}

const isNameList = (v, max) => Array.isArray(v) && v.length <= max && v.every((s) => isText(s, 256));
const isCount = (v) => isInt(v, 0, Number.MAX_SAFE_INTEGER);

const processView = (p) =>
  isObject(p) && isInt(p.pid, 1, U32) && isText(p.name, 256) && isText(p.state, 32) &&
  isNameList(p.blockedOn, 4096) && isInt(p.caps, 0, U32);

const PROCESS_STATES = new Set(['running', 'blocked', 'exited', 'killed', 'panicked', 'trapped', 'failed']);
const CAP_ORIGINS = new Set(['granted', 'received', 'returned']);
const COUNTERS = ['sqes', 'cqes', 'inFlight', 'doorbellWaits', 'cqStalls'];

const capView = (c) =>
  isObject(c) && isText(c.name, 256) && CAP_ORIGINS.has(c.origin) && isInt(c.fromPid, 0, U32) &&
  isText(c.via, 256) && isText(c.interface, 256) && typeof c.badge === 'string' && /^\d{1,20}$/.test(c.badge) &&
  isInt(c.object, 1, U32);

const inspectedProcess = (p) =>
  isObject(p) && isInt(p.pid, 1, U32) && isText(p.name, 256) && PROCESS_STATES.has(p.state) &&
  isNameList(p.blockedOn, 4096) && (p.exitCode === null || isInt(p.exitCode, I32_MIN, I32_MAX)) &&
  isText(p.reason, 64 * 1024) && isObject(p.counters) && COUNTERS.every((k) => isCount(p.counters[k])) &&
  Array.isArray(p.caps) && p.caps.length <= 4096 && p.caps.every(capView);

const objectView = (o) => isObject(o) && isInt(o.object, 1, U32) && isText(o.interface, 256) && isText(o.note, 4096);

const traceCall = (c) =>
  isObject(c) && isInt(c.pid, 1, U32) && isText(c.interface, 256) && isText(c.method, 256) &&
  isText(c.outcome, 64) && typeof c.parked === 'boolean' && Number.isFinite(c.startMs) &&
  Number.isFinite(c.durUs) && c.durUs >= 0 && isText(c.message, 64 * 1024);

const FS_KINDS = new Set(['file', 'dir', 'symlink']);
const fileRow = (r) => isObject(r) && isText(r.path, 4096) && FS_KINDS.has(r.kind) && isCount(r.size)
  && Number.isFinite(r.mtimeMs);
const filesMount = (m) => isObject(m) && isInt(m.index, 0, 255) && isText(m.guest, 4096) && isText(m.store, 64)
  && typeof m.granted === 'boolean' && isCount(m.usedBytes) && isCount(m.quotaBytes) && Array.isArray(m.entries)
  && m.entries.length <= 5000 && m.entries.every(fileRow) && isInt(m.omitted, 0, U32);
const fileCopy = (e) => isObject(e) && isText(e.path, 4096) && FS_KINDS.has(e.kind) && e.data instanceof Uint8Array
  && Number.isFinite(e.mtimeMs);
const fsEntry = (e) => isObject(e) && isText(e.path, 4096) && FS_KINDS.has(e.kind) && isText(e.data, 96 * MAX_TEXT)
  && [e.origin, e.upload].every((n) => n === undefined || n === null || isInt(n, 0, Number.MAX_SAFE_INTEGER));

// kernel -> page (view models only: no capability ids ever cross here)
export function checkKernelEvent(m) {
  if (!isObject(m)) return 'kernel event must be an object';
  switch (m.type) {
    case 'console':
      return check(isInt(m.pid, 1, U32) && (m.stream === 'stdout' || m.stream === 'stderr')
        && m.data instanceof Uint8Array && m.data.length <= MAX_TEXT, 'console: {pid, stream, data: Uint8Array}');
    case 'processes':
      return check(Array.isArray(m.processes) && m.processes.length <= 4096 && m.processes.every(processView),
        'processes: {processes: [{pid, name, state, blockedOn, caps}]}');
    case 'inspector':
      return check(isCount(m.seq) && Number.isFinite(m.atMs) && Array.isArray(m.processes) &&
        m.processes.length <= 8192 && m.processes.every(inspectedProcess) &&
        Array.isArray(m.objects) && m.objects.length <= 1 << 20 && m.objects.every(objectView),
      'inspector: {seq, atMs, processes: [{pid, name, state, blockedOn, exitCode, reason, counters, caps}], objects}');
    case 'trace':
      return check(isCount(m.dropped) && Array.isArray(m.calls) && m.calls.length <= 65536 && m.calls.every(traceCall),
        'trace: {calls: [{pid, interface, method, outcome, parked, startMs, durUs, message}], dropped}');
    case 'processExited':
      return check(isInt(m.pid, 1, U32) && isText(m.name, 256) && PROCESS_STATES.has(m.state) &&
        isInt(m.code, I32_MIN, I32_MAX) && isText(m.reason, 64 * 1024), 'processExited: {pid, name, state, code, reason}');
    case 'workers':
      return check(isInt(m.live, 0, U32), 'workers: {live}');
    case 'runtime':
      return check(RUNTIME_NAME.test(m.name) && RUNTIME_PHASES.has(m.phase) && isCount(m.loaded) && isCount(m.total)
        && typeof m.cached === 'boolean' && Number.isFinite(m.ms) && m.ms >= 0 && isText(m.message, 64 * 1024),
      'runtime: {name, phase, loaded, total, cached, ms, message}');
    case 'bootError':
    case 'panic':
      return check(isText(m.message, 64 * 1024), `${m.type}: {message}`);
    case 'filesystems':
      return check(Array.isArray(m.mounts) && m.mounts.every((mount) => isObject(mount) && isText(mount.guest, 4096) &&
        isText(mount.store, 64) && isText(mount.storePath, 4096) && Array.isArray(mount.entries) && mount.entries.every(fsEntry)),
      'filesystems: {mounts: [{guest, store, storePath, entries}]}');
    case 'halted':
      return check(isInt(m.code, I32_MIN, I32_MAX) && isText(m.reason, 64 * 1024), 'halted: {code, reason}');
    case 'files':
      return check(Array.isArray(m.mounts) && m.mounts.length <= 256 && m.mounts.every(filesMount),
        'files: {mounts: [{index, guest, store, granted, usedBytes, quotaBytes, entries, omitted}]}');
    case 'project':
      return check(FILE_NAME.test(m.name) && isText(m.language, 64) && isText(m.command, 64 * 1024),
        'project: {name, language, command}');
    case 'storeFailed':
      return check(isText(m.store, 64) && isText(m.message, 64 * 1024), 'storeFailed: {store, message}');
    case 'listening':
      return check(Array.isArray(m.ports) && m.ports.length <= 1024 && m.ports.every((p) => isInt(p, 1, 65535)),
        'listening: {ports: [1-65535]}');
    case 'filesAnswer':
      return check(isInt(m.id, 1, U32) && typeof m.ok === 'boolean' && (m.message === undefined || isText(m.message, 1 << 20))
        && (m.entries === undefined || (Array.isArray(m.entries) && m.entries.every(fileCopy)))
        && (m.failed === undefined || isInt(m.failed, 0, U32)), 'filesAnswer: {id, ok, message?, entries?, failed?}');
    case 'clipboard':
      return check(isInt(m.id, 1, U32) && (m.op === 'read' || (m.op === 'write' && isText(m.text))),
        'clipboard: {id, op: "read"} or {id, op: "write", text}');
    case 'displayOpen':
    case 'displayFrame': {
      const sized = isInt(m.id, 1, U32) && isInt(m.width, 1, 1920) && isInt(m.height, 1, 1080);
      if (m.type === 'displayOpen') return check(sized, 'displayOpen: {id, width, height} (at most 1920 x 1080)');
      return check(sized && m.pixels instanceof Uint8Array && m.pixels.length === m.width * m.height * 4,
        'displayFrame: {id, width, height, pixels: width * height * 4 bytes of RGBA}');
    }
    case 'displayClose':
      return check(isInt(m.id, 1, U32), 'displayClose: {id}');
    default:
      return `unknown kernel event type ${JSON.stringify(String(m.type)).slice(0, 40)}`;
  }
}
