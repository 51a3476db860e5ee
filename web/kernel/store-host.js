// The browser half of persistent volumes (the kernel's caps/volume.rs):
// where a store's index and blobs live, and the commit that replaces one
// tree with the next atomically. docs/files.md has the design.
//
// Three backends, one interface:
//   opfs   -- the Origin Private File System: capos-stores/<name>/index and
//             capos-stores/<name>/blobs/<id>. The index is replaced with
//             createWritable(), whose changes land only when it is closed.
//   idb    -- IndexedDB, where OPFS (with createWritable) is missing: a
//             commit is one transaction.
//   memory -- a Map, for headless runs (`capos run`, `capos boot`), where
//             nothing of one run may be visible to the next.
// In each, a commit writes fresh blobs first, then the index, then deletes
// the blobs the new index no longer names: a commit cut short at any point
// leaves the old tree (plus stray blobs, removed at the next load).

const ROOT = 'capos-stores';
const DATABASE = 'capos-stores';

// The backend to use: `wanted` ('opfs', 'idb', 'memory') if given, else the
// best this browser has.
export function storeBackend(wanted) {
  if (wanted === 'memory') return new MemoryBackend();
  if (wanted !== 'idb' && opfsUsable()) return new OpfsBackend();
  return new IdbBackend();
}

function opfsUsable() {
  return typeof navigator.storage?.getDirectory === 'function'
    && typeof globalThis.FileSystemFileHandle?.prototype.createWritable === 'function';
}

// What the browser still grants this site, in bytes.
async function availableBytes() {
  try {
    const { quota = 0, usage = 0 } = await navigator.storage.estimate();
    return Math.max(0, quota - usage);
  } catch {
    return 0;
  }
}

const failure = (err) => {
  const quota = err?.name === 'QuotaExceededError';
  return {
    kind: quota ? 'quota' : 'other',
    message: quota
      ? `the browser's storage quota is full (${err.message})`
      : `the browser's storage failed: ${err?.name || 'Error'}: ${err?.message || err}`,
  };
};

// Loads every store a boot needs into `kernel` (addStore, storeBlob) and
// answers its commits. One per kernel Worker.
export class StoreHost {
  constructor(backend, reply) {
    this.backend = backend;
    this.reply = reply; // reply(action): runs action(kernel) unless it is gone
    this.pending = new Set();
    this.chains = new Map(); // store -> the promise of its last commit
    this.locked = new Set(); // stores this Worker holds
  }

  get kind() {
    return this.backend.kind;
  }

  // Loads store `name` into `kernel`; throws with a reason a person can act
  // on (in use by another tab, a damaged index).
  async load(kernel, name) {
    if (this.backend.shared && !this.locked.has(name)) {
      await lockStore(name);
      this.locked.add(name);
    }
    const index = await this.backend.readIndex(name);
    const ids = kernel.addStore(name, index ?? undefined, await availableBytes());
    const blobs = await this.readBlobs(name, ids);
    ids.forEach((id, i) => kernel.storeBlob(name, id, blobs[i]));
    await this.backend.removeStray(name, new Set(ids));
  }

  // What store `name` holds under `storePath`, read back from storage
  // itself: a `filesystems` mount for `guest`.
  async snapshot(Kernel, name, guest, storePath) {
    const index = await this.backend.readIndex(name);
    if (!index) throw new Error(`store "${name}" was never committed`);
    const ids = Kernel.storeBlobIds(index);
    return Kernel.storeSnapshot(guest, name, storePath, index, ids, await this.readBlobs(name, ids));
  }

  // The bytes of blobs `ids`, each of which the store's index names.
  async readBlobs(name, ids) {
    const blobs = [];
    for (const id of ids) {
      const bytes = await this.backend.readBlob(name, id);
      if (!bytes) throw new Error(`store "${name}": blob ${id} its index names is missing`);
      blobs.push(bytes);
    }
    return blobs;
  }

  commit(id, request, payload) {
    const data = payload.slice(); // a view into kernel memory: copy now
    const name = request.store;
    const work = (this.chains.get(name) ?? Promise.resolve())
      .then(() => this.backend.commit(name, request, data))
      .then(
        () => this.reply((k) => k.hostDone(id)),
        (err) => {
          const { kind, message } = failure(err);
          this.reply((k) => k.hostFailed(id, kind, message));
        },
      );
    this.chains.set(name, work);
    this.pending.add(work);
    work.finally(() => this.pending.delete(work));
  }

  // Resolves once every commit asked for so far has ended.
  async settled() {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }
}

// Splits a commit's payload: the index, then each new blob in order.
function* pieces(request, payload) {
  let at = request.indexBytes;
  for (const [id, len] of request.blobs) {
    yield [id, payload.subarray(at, at + len)];
    at += len;
  }
}

// Holds store `name` for this Worker's life, so two tabs never commit over
// each other. The kernel Worker of the boot before this one may still be
// letting go of it (a Worker's locks are released once it has ended), so
// wait a little before telling the person another tab has it.
const LOCK_WAIT_MS = 5000;
async function lockStore(name) {
  if (!navigator.locks) return;
  await new Promise((resolve, reject) => {
    const signal = AbortSignal.timeout(LOCK_WAIT_MS);
    navigator.locks.request(`capos-store:${name}`, { signal }, () => {
      resolve();
      return new Promise(() => {}); // held until this Worker ends
    }).catch((err) => {
      reject(err?.name === 'TimeoutError' || err?.name === 'AbortError'
        ? new Error(`store "${name}" is in use by another tab of this site; close it, or boot there`)
        : err);
    });
  });
}

// `shared`: other tabs of the site see the same stores (so a store is locked).
class OpfsBackend {
  constructor() {
    this.kind = 'opfs';
    this.shared = true;
  }

  // The store's directory and its blobs' (looked up once per store, not
  // once per blob).
  dir(name) {
    this.dirs ??= new Map();
    if (!this.dirs.has(name)) {
      this.dirs.set(name, (async () => {
        const root = await navigator.storage.getDirectory();
        const stores = await root.getDirectoryHandle(ROOT, { create: true });
        const store = await stores.getDirectoryHandle(name, { create: true });
        return { store, blobs: await store.getDirectoryHandle('blobs', { create: true }) };
      })());
      this.dirs.get(name).catch(() => this.dirs.delete(name)); // the next call tries again
    }
    return this.dirs.get(name);
  }

  async readIndex(name) {
    return readFile((await this.dir(name)).store, 'index');
  }

  async readBlob(name, id) {
    return readFile((await this.dir(name)).blobs, String(id));
  }

  async removeStray(name, keep) {
    const { blobs } = await this.dir(name);
    const stray = [];
    for await (const key of blobs.keys()) if (!keep.has(Number(key))) stray.push(key);
    for (const key of stray) await blobs.removeEntry(key).catch(() => {});
  }

  async commit(name, request, payload) {
    const { store, blobs } = await this.dir(name);
    for (const [id, bytes] of pieces(request, payload)) {
      await writeBlob(await blobs.getFileHandle(String(id), { create: true }), bytes);
    }
    // The commit point: createWritable writes to a scratch copy that
    // replaces the file only when close() succeeds.
    await writeWhole(await store.getFileHandle('index', { create: true }), payload.subarray(0, request.indexBytes));
    for (const id of request.obsolete) await blobs.removeEntry(String(id)).catch(() => {});
  }
}

// A fresh blob (no index names it yet, so it needs no atomic swap): through
// a sync access handle where the Worker has one, which writes in this
// process instead of through the browser's, several times faster.
async function writeBlob(handle, bytes) {
  if (typeof handle.createSyncAccessHandle !== 'function') return writeWhole(handle, bytes);
  const access = await handle.createSyncAccessHandle();
  try {
    access.truncate(0);
    let at = 0;
    while (at < bytes.length) at += access.write(bytes.subarray(at), { at });
    access.flush();
  } finally {
    access.close();
  }
}

// A file's bytes, or null if there is no such file.
async function readFile(dir, name) {
  try {
    const file = await (await dir.getFileHandle(name)).getFile();
    return new Uint8Array(await file.arrayBuffer());
  } catch (err) {
    if (err?.name === 'NotFoundError') return null;
    throw err;
  }
}

async function writeWhole(handle, bytes) {
  const out = await handle.createWritable({ keepExistingData: false });
  try {
    await out.write(bytes);
    await out.close();
  } catch (err) {
    await out.abort().catch(() => {});
    throw err;
  }
}

class IdbBackend {
  constructor() {
    this.kind = 'idb';
    this.shared = true;
    this.db = null;
  }

  database() {
    this.db ??= new Promise((resolve, reject) => {
      const open = indexedDB.open(DATABASE, 1);
      open.onupgradeneeded = () => {
        open.result.createObjectStore('index');
        open.result.createObjectStore('blobs');
      };
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
      open.onblocked = () => reject(new Error('the store database is blocked by another tab upgrading it'));
    }).catch((err) => {
      this.db = null;
      throw err;
    });
    return this.db;
  }

  async transaction(mode, work) {
    const db = await this.database();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(['index', 'blobs'], mode, { durability: 'strict' });
      const result = {};
      tx.oncomplete = () => resolve(result.value);
      tx.onabort = () => reject(tx.error ?? new Error('the transaction was aborted'));
      tx.onerror = (event) => event.preventDefault(); // reported by onabort
      work(tx, result);
    });
  }

  // The value under `key` in object store `objects`, or null.
  get(objects, key) {
    return this.transaction('readonly', (tx, result) => {
      const get = tx.objectStore(objects).get(key);
      get.onsuccess = () => { result.value = get.result ?? null; };
    });
  }

  readIndex(name) {
    return this.get('index', name);
  }

  readBlob(name, id) {
    return this.get('blobs', [name, id]);
  }

  removeStray(name, keep) {
    return this.transaction('readwrite', (tx) => {
      const blobs = tx.objectStore('blobs');
      const keys = blobs.getAllKeys(IDBKeyRange.bound([name, 0], [name, Infinity]));
      keys.onsuccess = () => {
        for (const key of keys.result) if (!keep.has(key[1])) blobs.delete(key);
      };
    });
  }

  commit(name, request, payload) {
    return this.transaction('readwrite', (tx) => {
      const blobs = tx.objectStore('blobs');
      for (const [id, bytes] of pieces(request, payload)) blobs.put(bytes, [name, id]);
      tx.objectStore('index').put(payload.slice(0, request.indexBytes), name);
      for (const id of request.obsolete) blobs.delete([name, id]);
    });
  }
}

class MemoryBackend {
  constructor() {
    this.kind = 'memory';
    this.shared = false;
    this.stores = new Map();
  }

  store(name) {
    if (!this.stores.has(name)) this.stores.set(name, { index: null, blobs: new Map() });
    return this.stores.get(name);
  }

  async readIndex(name) {
    return this.store(name).index;
  }

  async readBlob(name, id) {
    return this.store(name).blobs.get(id) ?? null;
  }

  async removeStray(name, keep) {
    const { blobs } = this.store(name);
    for (const id of [...blobs.keys()]) if (!keep.has(id)) blobs.delete(id);
  }

  async commit(name, request, payload) {
    const store = this.store(name);
    for (const [id, bytes] of pieces(request, payload)) store.blobs.set(id, bytes.slice());
    store.index = payload.slice(0, request.indexBytes);
    for (const id of request.obsolete) store.blobs.delete(id);
  }
}
