// What a script finds in its global scope beyond ECMAScript: console and print, process,
// a Node-style synchronous fs, TextEncoder/TextDecoder and timers. Built on the natives
// (natives.rs); evaluated once before the user's code. Its completion value is the
// interpreter's own handle: { inspect, formatError, runTimers }.
(() => {
  'use strict';
  const native = globalThis.__capos_native;
  delete globalThis.__capos_native;

  // ---- inspect: values as Node's REPL and console.log show them ----
  const isIdentifier = (key) => /^[A-Za-z_$][\w$]*$/.test(key);
  const quote = (s) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
  function inspect(value, depth = 2, seen = []) {
    switch (typeof value) {
      case 'string': return quote(value);
      case 'number': return Object.is(value, -0) ? '-0' : String(value);
      case 'bigint': return `${value}n`;
      case 'symbol': return value.toString();
      case 'undefined': return 'undefined';
      case 'boolean': return String(value);
      case 'function': {
        const kind = /^class\b/.test(Function.prototype.toString.call(value)) ? 'class' : 'Function';
        return value.name ? `[${kind}: ${value.name}]` : `[${kind} (anonymous)]`;
      }
      default: break;
    }
    if (value === null) return 'null';
    if (seen.includes(value)) return '[Circular]';
    if (value instanceof Error) return value.stack ? `${value}\n${value.stack}`.trimEnd() : String(value);
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
    if (value instanceof RegExp) return String(value);
    if (value instanceof Promise) return 'Promise {}';
    const inner = [...seen, value];
    const show = (v) => inspect(v, depth - 1, inner);
    let open = '{';
    let close = '}';
    let items = [];
    let prefix = '';
    if (Array.isArray(value)) {
      if (depth < 0) return '[Array]';
      open = '[';
      close = ']';
      let holes = 0;
      for (let i = 0; i < value.length; i++) {
        if (!(i in value)) { holes++; continue; }
        if (holes) { items.push(`<${holes} empty item${holes > 1 ? 's' : ''}>`); holes = 0; }
        items.push(show(value[i]));
      }
      if (holes) items.push(`<${holes} empty item${holes > 1 ? 's' : ''}>`);
    } else if (ArrayBuffer.isView(value)) {
      prefix = `${value.constructor.name}(${value.length}) `;
      open = '[';
      close = ']';
      items = Array.from(value.slice(0, 100), String);
      if (value.length > 100) items.push(`... ${value.length - 100} more items`);
    } else if (value instanceof Map) {
      if (depth < 0) return '[Map]';
      prefix = `Map(${value.size}) `;
      for (const [k, v] of value) items.push(`${show(k)} => ${show(v)}`);
    } else if (value instanceof Set) {
      if (depth < 0) return '[Set]';
      prefix = `Set(${value.size}) `;
      for (const v of value) items.push(show(v));
    } else {
      const proto = Object.getPrototypeOf(value);
      const name = proto === null ? '[Object: null prototype]' : proto?.constructor?.name;
      if (depth < 0) return `[${name || 'Object'}]`;
      if (name && name !== 'Object') prefix = `${name} `;
    }
    if (!Array.isArray(value) && !ArrayBuffer.isView(value)) {
      for (const key of Object.keys(value)) {
        items.push(`${isIdentifier(key) ? key : quote(key)}: ${show(value[key])}`);
      }
    }
    if (items.length === 0) return `${prefix}${open}${close}`;
    const oneLine = `${prefix}${open} ${items.join(', ')} ${close}`;
    if (oneLine.length <= 72 && !oneLine.includes('\n')) return oneLine;
    return `${prefix}${open}\n${items.map((i) => `  ${i.replace(/\n/g, '\n  ')}`).join(',\n')}\n${close}`;
  }

  // console.log's rules: strings as they are, other values inspected; %s %d %i %f %j %o %O %%.
  function format(args) {
    if (args.length === 0) return '';
    let rest = args;
    let head = '';
    if (typeof args[0] === 'string') {
      let i = 1;
      head = args[0].replace(/%([sdifjoO%])/g, (all, f) => {
        if (f === '%') return '%';
        if (i >= args.length) return all;
        const a = args[i++];
        switch (f) {
          case 's': return typeof a === 'string' ? a : inspect(a, 1);
          case 'd': case 'i': return String(f === 'i' ? Math.trunc(Number(a)) : Number(a));
          case 'f': return String(parseFloat(a));
          case 'j': try { return JSON.stringify(a); } catch { return '[Circular]'; }
          default: return inspect(a, 4);
        }
      });
      rest = args.slice(i);
      if (rest.length === 0) return head;
      head += ' ';
    }
    return head + rest.map((a) => (typeof a === 'string' ? a : inspect(a))).join(' ');
  }

  function formatError(e) {
    if (e instanceof Error) {
      const stack = typeof e.stack === 'string' ? e.stack.trimEnd() : '';
      return stack ? `${e}\n${stack}` : String(e);
    }
    return `Uncaught ${inspect(e)}`;
  }

  const out = (text) => native.write(1, `${text}\n`);
  const err = (text) => native.write(2, `${text}\n`);
  const counts = new Map();
  const timersStarted = new Map();
  globalThis.console = {
    log: (...a) => out(format(a)),
    info: (...a) => out(format(a)),
    debug: (...a) => out(format(a)),
    warn: (...a) => err(format(a)),
    error: (...a) => err(format(a)),
    trace: (...a) => err(`Trace: ${format(a)}\n${new Error().stack.split('\n').slice(1).join('\n')}`),
    assert: (ok, ...a) => { if (!ok) err(`Assertion failed${a.length ? `: ${format(a)}` : ''}`); },
    dir: (v) => out(inspect(v)),
    table: (v) => out(inspect(v)),
    count: (label = 'default') => {
      counts.set(label, (counts.get(label) ?? 0) + 1);
      out(`${label}: ${counts.get(label)}`);
    },
    time: (label = 'default') => { timersStarted.set(label, native.nowMs()); },
    timeEnd: (label = 'default') => {
      const t = timersStarted.get(label);
      if (t !== undefined) out(`${label}: ${(native.nowMs() - t).toFixed(3)}ms`);
      timersStarted.delete(label);
    },
  };
  // QuickJS's own `print`: its arguments, space-separated, on one line.
  globalThis.print = (...a) => out(a.map(String).join(' '));

  // ---- process ----
  const stream = (fd) => ({
    write(data) { native.write(fd, data instanceof ArrayBuffer || ArrayBuffer.isView(data) ? data : String(data)); return true; },
    isTTY: false,
  });
  globalThis.process = {
    argv: native.argv,
    env: native.env,
    platform: 'wasi',
    exitCode: undefined,
    exit(code) { native.exit(Number(code ?? globalThis.process.exitCode ?? 0) | 0); },
    stdout: stream(1),
    stderr: stream(2),
    hrtime: { bigint: () => BigInt(Math.round(native.nowMs() * 1e6)) },
  };
  globalThis.scriptArgs = native.scriptArgs;

  // ---- fs (synchronous, Node's names and error codes) ----
  // Each native failure is an Error whose message starts with the errno name: copy it to .code.
  const call = (f) => {
    try {
      return f();
    } catch (e) {
      const m = /^([A-Z]+):/.exec(e?.message ?? '');
      if (m) {
        e.code = m[1];
        Error.captureStackTrace?.(e);
      }
      throw e;
    }
  };
  const encodingOf = (options) => (typeof options === 'string' ? options : options?.encoding ?? null);
  const decode = (bytes, encoding) => {
    if (encoding === null || encoding === undefined || encoding === 'buffer') return bytes;
    if (/^utf-?8$/i.test(encoding)) return native.utf8Decode(bytes);
    throw new TypeError(`unsupported encoding ${encoding}: use 'utf8' or none (a Uint8Array)`);
  };
  class Stats {
    constructor(s) { Object.assign(this, { size: s.size, mtimeMs: s.mtimeMs, mtime: new Date(s.mtimeMs) }); this._s = s; }
    isFile() { return this._s.isFile; }
    isDirectory() { return this._s.isDirectory; }
    isSymbolicLink() { return this._s.isSymbolicLink; }
  }
  const stdinPath = (p) => p === 0 || p === '/dev/stdin';
  globalThis.fs = {
    readFileSync: (path, options) => decode(
      call(() => (stdinPath(path) ? native.readStdin() : native.readFile(String(path)))),
      encodingOf(options),
    ),
    writeFileSync: (path, data, options) => call(() => native.writeFile(String(path), data instanceof ArrayBuffer || ArrayBuffer.isView(data) ? data : String(data), options?.flag === 'a')),
    appendFileSync: (path, data) => call(() => native.writeFile(String(path), data instanceof ArrayBuffer || ArrayBuffer.isView(data) ? data : String(data), true)),
    existsSync: (path) => { try { native.stat(String(path), false); return true; } catch { return false; } },
    readdirSync: (path) => call(() => native.readdir(String(path))),
    statSync: (path) => new Stats(call(() => native.stat(String(path), false))),
    lstatSync: (path) => new Stats(call(() => native.stat(String(path), true))),
    mkdirSync: (path, options) => call(() => native.mkdir(String(path), options?.recursive === true)),
    unlinkSync: (path) => call(() => native.unlink(String(path))),
    rmdirSync: (path, options) => call(() => native.rmdir(String(path), options?.recursive === true)),
    rmSync: (path, options) => {
      try {
        const s = native.stat(String(path), true);
        if (s.isDirectory) {
          if (!options?.recursive) throw new Error(`EISDIR: is a directory, rm '${path}'`);
          native.rmdir(String(path), true);
        } else {
          native.unlink(String(path));
        }
      } catch (e) {
        if (options?.force && /^ENOENT:/.test(e.message)) return;
        call(() => { throw e; });
      }
    },
    renameSync: (from, to) => call(() => native.rename(String(from), String(to))),
  };

  // ---- TextEncoder / TextDecoder (UTF-8 only) ----
  globalThis.TextEncoder ??= class TextEncoder {
    get encoding() { return 'utf-8'; }
    encode(text = '') { return native.utf8Encode(String(text)); }
  };
  globalThis.TextDecoder ??= class TextDecoder {
    constructor(label = 'utf-8') {
      if (!/^utf-?8$/i.test(label)) throw new RangeError(`TextDecoder: only utf-8 is supported, not ${label}`);
    }
    get encoding() { return 'utf-8'; }
    decode(bytes = new Uint8Array()) { return native.utf8Decode(bytes); }
  };

  // ---- fetch, over capOS's capos_http imports (a Fetch or HttpEndpoint capability) ----
  // The request is made when fetch() is called (the process blocks until the head arrives);
  // the body is read when asked for. Without a capability, fetch() rejects with ENOTCAPABLE.
  class Headers {
    constructor(init) {
      this._map = new Map();
      if (typeof init === 'string') {
        for (const line of init.split('\n')) {
          const i = line.indexOf(':');
          if (i > 0) this.append(line.slice(0, i), line.slice(i + 1).trim());
        }
      } else if (init instanceof Headers) {
        for (const [k, v] of init) this.append(k, v);
      } else if (Array.isArray(init)) {
        for (const [k, v] of init) this.append(k, v);
      } else if (init) {
        for (const k of Object.keys(init)) this.append(k, init[k]);
      }
    }
    append(name, value) {
      const k = String(name).toLowerCase();
      const old = this._map.get(k);
      this._map.set(k, old === undefined ? String(value) : `${old}, ${value}`);
    }
    set(name, value) { this._map.set(String(name).toLowerCase(), String(value)); }
    get(name) { return this._map.get(String(name).toLowerCase()) ?? null; }
    has(name) { return this._map.has(String(name).toLowerCase()); }
    delete(name) { this._map.delete(String(name).toLowerCase()); }
    forEach(fn) { for (const [k, v] of this._map) fn(v, k, this); }
    entries() { return this._map.entries(); }
    keys() { return this._map.keys(); }
    values() { return this._map.values(); }
    [Symbol.iterator]() { return this._map.entries(); }
  }
  class Response {
    constructor(head, url) {
      this.status = head.status;
      this.ok = head.status >= 200 && head.status < 300;
      this.url = url;
      this.headers = new Headers(head.headers);
      this._handle = head.handle;
      this.bodyUsed = false;
    }
    _bytes() {
      if (this.bodyUsed) return Promise.reject(new TypeError('the body has already been read'));
      this.bodyUsed = true;
      try {
        const parts = [];
        let size = 0;
        for (;;) {
          const part = call(() => native.httpRead(this._handle));
          if (part.length === 0) break;
          parts.push(part);
          size += part.length;
        }
        const all = new Uint8Array(size);
        let at = 0;
        for (const p of parts) { all.set(p, at); at += p.length; }
        return Promise.resolve(all);
      } catch (e) {
        return Promise.reject(e);
      } finally {
        native.httpClose(this._handle);
      }
    }
    bytes() { return this._bytes(); }
    arrayBuffer() { return this._bytes().then((b) => b.buffer); }
    text() { return this._bytes().then((b) => native.utf8Decode(b)); }
    json() { return this.text().then((t) => JSON.parse(t)); }
  }
  globalThis.Headers = Headers;
  globalThis.Response = Response;
  globalThis.fetch = function fetch(input, init = {}) {
    try {
      const url = String(input?.url ?? input);
      const headers = new Headers(init.headers);
      let text = '';
      for (const [k, v] of headers) text += `${k}: ${v}\n`;
      const body = init.body === undefined || init.body === null ? undefined
        : init.body instanceof ArrayBuffer || ArrayBuffer.isView(init.body) ? init.body : String(init.body);
      const method = String(init.method ?? 'GET').toUpperCase();
      const head = call(() => native.httpRequest(method, url, text, body, Number(init.timeout ?? 0)));
      return Promise.resolve(new Response(head, url));
    } catch (e) {
      return Promise.reject(e);
    }
  };

  // ---- serve: HTTP on the listening socket this process was given ----
  // serve((request) => response): request {method, path, headers (a Headers), body
  // (Uint8Array), text(), json()}; response a string, a Uint8Array, or {status, headers,
  // body}. One request at a time, each on its own connection, forever (or until the
  // handler throws). Without a listening socket it throws EBADF saying so.
  globalThis.serve = function serve(handler) {
    for (;;) {
      const raw = native.serveNext();
      const headers = new Headers();
      for (const line of raw.headers.split('\n')) {
        const colon = line.indexOf(':');
        if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      }
      const request = {
        method: raw.method, path: raw.path, headers, body: raw.body,
        text: () => native.utf8Decode(raw.body),
        json: () => JSON.parse(native.utf8Decode(raw.body)),
      };
      let response;
      try {
        response = handler(request);
      } catch (err) {
        native.serveRespond(500, 'content-type: text/plain; charset=utf-8', `${err?.stack ?? err}\n`);
        continue;
      }
      if (typeof response === 'string' || response instanceof Uint8Array) response = { body: response };
      const status = Number(response?.status ?? 200);
      const lines = Object.entries(response?.headers ?? {}).map(([n, v]) => `${n}: ${v}`);
      if (!lines.some((l) => /^content-type:/i.test(l))) lines.push('content-type: text/plain; charset=utf-8');
      native.serveRespond(status, lines.join('\n'), response?.body ?? '');
    }
  };

  // ---- timers: run by the interpreter's event loop (main.rs) through runTimers ----
  const timers = new Map(); // id -> { due, fn, args, every }
  let nextTimerId = 1;
  const addTimer = (fn, ms, args, repeat) => {
    if (typeof fn !== 'function') throw new TypeError('the callback must be a function');
    const delay = Math.max(0, Number(ms) || 0);
    const id = nextTimerId++;
    timers.set(id, { due: native.nowMs() + delay, fn, args, every: repeat ? Math.max(1, delay) : null });
    return id;
  };
  globalThis.setTimeout = (fn, ms, ...args) => addTimer(fn, ms, args, false);
  globalThis.setInterval = (fn, ms, ...args) => addTimer(fn, ms, args, true);
  globalThis.clearTimeout = (id) => { timers.delete(id); };
  globalThis.clearInterval = globalThis.clearTimeout;
  globalThis.queueMicrotask ??= (fn) => { Promise.resolve().then(fn); };

  // Runs the one earliest due timer; returns milliseconds until the next one (0 if one is due
  // now), or -1 when there are none. An exception in a callback propagates (the script ends).
  function runTimers() {
    if (timers.size === 0) return -1;
    let first = null;
    for (const [id, t] of timers) if (first === null || t.due < first[1].due) first = [id, t];
    const [id, t] = first;
    const wait = t.due - native.nowMs();
    if (wait > 0) return wait;
    if (t.every === null) timers.delete(id);
    else t.due += t.every;
    t.fn(...t.args);
    return timers.size === 0 ? -1 : 0;
  }

  return { inspect, formatError, runTimers };
})()
