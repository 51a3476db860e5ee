// Loads the language runtimes a manifest names (python, qjs) for the kernel
// Worker. A runtime is known by its SHA-256: the manifest's, or else the
// catalogue's (/runtimes/catalogue.json, made by the build). It is looked up
// in CacheAPI under that hash; on a miss it is downloaded (progress reported
// as it streams). Either way its bytes are hashed with SubtleCrypto and
// compared before anything compiles: a mismatch is refused, nothing runs, and
// a bad cache entry is dropped. Verified bytes are cached, then compiled.
//
// Why not WebAssembly.compileStreaming: it compiles while bytes arrive, that
// is, before the whole module can have been checked. Checking first is the
// point, so the loader compiles the verified bytes.

import { limitMemory } from './memory-limit.js';

const CACHE_NAME = 'capos-runtimes-v1';
const CATALOGUE_URL = new URL('../runtimes/catalogue.json', import.meta.url);
const RUNTIME_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
// Progress reports while downloading: at most this often.
const PROGRESS_EVERY_MS = 100;

export class RuntimeLoader {
  // `report(event)` receives {type: 'runtime', name, phase, loaded, total, cached, ms, message}.
  constructor(report) {
    this.report = report;
    this.catalogue = null; // a promise of the parsed catalogue, fetched once
    // "name@sha256/pages" -> Promise<WebAssembly.Module>, for this kernel's lifetime
    this.compiled = new Map();
  }

  // The runtime's compiled module, its memory held to `maxPages`. Rejects
  // with an Error whose message says what went wrong (unknown name, download
  // failure, hash mismatch).
  load(name, pinnedSha256, maxPages) {
    if (!RUNTIME_NAME.test(name)) return Promise.reject(new Error(`runtime name ${JSON.stringify(name)} is malformed`));
    if (pinnedSha256 && !SHA256_HEX.test(pinnedSha256)) {
      return Promise.reject(new Error(`runtime ${name}: SHA-256 ${JSON.stringify(pinnedSha256)} is malformed`));
    }
    const key = `${name}@${pinnedSha256 || 'catalogue'}/${maxPages}`;
    if (!this.compiled.has(key)) {
      const loading = this.fetchVerified(name, pinnedSha256, maxPages).catch((err) => {
        this.compiled.delete(key); // the next process tries again
        this.report({ type: 'runtime', name, phase: 'failed', loaded: 0, total: 0, cached: false, ms: 0, message: err.message });
        throw err;
      });
      this.compiled.set(key, loading);
    }
    return this.compiled.get(key);
  }

  async fetchVerified(name, pinnedSha256, maxPages) {
    const started = performance.now();
    let entry = null;
    if (!pinnedSha256) entry = await this.entry(name);
    const sha256 = pinnedSha256 || entry.sha256;
    const cache = await openCache();
    const cacheKey = new URL(`../runtimes/sha256/${sha256}`, import.meta.url);
    let bytes = null;
    let cached = false;
    const hit = cache ? await cache.match(cacheKey).catch(() => undefined) : undefined;
    if (hit) {
      bytes = new Uint8Array(await hit.arrayBuffer());
      if (await hex(bytes) === sha256) {
        cached = true;
      } else {
        // A damaged cache entry is not trusted, and not kept.
        await cache.delete(cacheKey).catch(() => {});
        bytes = null;
      }
    }
    if (!bytes) {
      entry ??= await this.entry(name);
      bytes = await this.download(name, entry);
      const actual = await hex(bytes);
      if (actual !== sha256) {
        throw new Error(`runtime ${name}: its SHA-256 is ${actual}, not the expected ${sha256}: `
          + 'the download is corrupt or was tampered with, and it was not run');
      }
      this.report({ type: 'runtime', name, phase: 'verified', loaded: bytes.length, total: bytes.length, cached: false, ms: performance.now() - started, message: '' });
      await storeInCache(cache, cacheKey, bytes);
    }
    let module;
    try {
      // Checked first, limited second: the limit is ours, not the download's.
      module = await WebAssembly.compile(limitMemory(bytes, maxPages));
    } catch (err) {
      throw new Error(`runtime ${name}: it cannot start: ${err.message}`);
    }
    const ms = performance.now() - started;
    performance.measure(`runtime ${name}: ${cached ? 'cache hit' : 'downloaded'}, verified, compiled`, { start: started, end: started + ms });
    this.report({ type: 'runtime', name, phase: 'ready', loaded: bytes.length, total: bytes.length, cached, ms, message: '' });
    return module;
  }

  // The catalogue's entry for `name`, or an Error listing the names there are.
  async entry(name) {
    this.catalogue ??= fetch(CATALOGUE_URL).then(async (response) => {
      if (!response.ok) throw new Error(`the runtime catalogue is missing (HTTP ${response.status}): was \`make runtimes\` run?`);
      return checkCatalogue(await response.json());
    }).catch((err) => {
      this.catalogue = null;
      throw err;
    });
    const catalogue = await this.catalogue;
    const entry = catalogue.runtimes.find((r) => r.name === name);
    if (!entry) {
      throw new Error(`no runtime ${JSON.stringify(name)} in the catalogue (there are: ${catalogue.runtimes.map((r) => r.name).join(', ')})`);
    }
    return entry;
  }

  // The runtime's bytes, streamed with progress. The server picks a
  // compressed variant (Content-Encoding); the browser decodes it, so
  // progress counts decoded bytes against the catalogue's size.
  async download(name, entry) {
    const url = new URL(`../runtimes/${entry.file}`, import.meta.url);
    let response;
    try {
      response = await fetch(url, { cache: 'no-store' });
    } catch (err) {
      throw new Error(`runtime ${name}: cannot download ${url.pathname}: ${err.message}`);
    }
    if (!response.ok || !response.body) {
      throw new Error(`runtime ${name}: ${url.pathname} answered HTTP ${response.status} ${response.statusText}`);
    }
    const total = entry.size;
    const bytes = new Uint8Array(total);
    let loaded = 0;
    let lastReport = 0;
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (loaded + value.length > total) {
        await reader.cancel().catch(() => {});
        throw new Error(`runtime ${name}: the download is larger than the catalogue's ${total} bytes: refused`);
      }
      bytes.set(value, loaded);
      loaded += value.length;
      const now = performance.now();
      if (now - lastReport >= PROGRESS_EVERY_MS) {
        lastReport = now;
        this.report({ type: 'runtime', name, phase: 'download', loaded, total, cached: false, ms: 0, message: '' });
      }
    }
    this.report({ type: 'runtime', name, phase: 'download', loaded, total, cached: false, ms: 0, message: '' });
    if (loaded !== total) {
      throw new Error(`runtime ${name}: the download ended after ${loaded} of ${total} bytes`);
    }
    return bytes;
  }
}

async function openCache() {
  try {
    return await caches.open(CACHE_NAME);
  } catch {
    return null; // No CacheAPI (an opaque origin): every load downloads.
  }
}

// A runtime that cannot be cached (quota) still runs; it is downloaded again next time.
async function storeInCache(cache, key, bytes) {
  if (!cache) return;
  try {
    await cache.put(key, new Response(bytes, { headers: { 'Content-Type': 'application/wasm' } }));
  } catch (err) {
    console.warn(`capOS: runtime not cached (${err.message}); it will be downloaded again`);
  }
}

async function hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

function checkCatalogue(c) {
  const ok = c !== null && typeof c === 'object' && c.format === 1 && Array.isArray(c.runtimes)
    && c.runtimes.every((r) => r !== null && typeof r === 'object' && RUNTIME_NAME.test(r.name)
      && typeof r.file === 'string' && /^[a-z0-9][a-z0-9.-]*\.wasm$/.test(r.file)
      && Number.isSafeInteger(r.size) && r.size > 0 && SHA256_HEX.test(r.sha256));
  if (!ok) throw new Error('the runtime catalogue is malformed');
  return c;
}
