// The browser half of KvStore (the kernel's caps/kv.rs): one IndexedDB
// database for every manifest, each value keyed by [namespace, key], so a
// manifest's keys are a range no other namespace's keys fall in. Each
// operation is one transaction, answered only once it has committed.

const DATABASE = 'capos-kv';
const STORE = 'values';

export class KvHost {
  // `reply(action)` runs `action(kernel)` unless the kernel is gone.
  constructor(reply) {
    this.reply = reply;
    this.db = null;
  }

  database() {
    this.db ??= new Promise((resolve, reject) => {
      const open = indexedDB.open(DATABASE, 1);
      open.onupgradeneeded = () => open.result.createObjectStore(STORE);
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
      open.onblocked = () => reject(new Error('the key-value database is blocked by another tab upgrading it'));
    }).catch((err) => {
      this.db = null; // The next request tries again.
      throw err;
    });
    return this.db;
  }

  // Runs `work(store)` in one transaction; resolves with what `work` set
  // in `result.value` once the transaction has committed.
  async transaction(mode, work) {
    const db = await this.database();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode, { durability: 'strict' });
      const result = {};
      tx.oncomplete = () => resolve(result.value);
      tx.onabort = () => reject(tx.error ?? new Error('the transaction was aborted'));
      tx.onerror = (event) => event.preventDefault(); // reported by onabort
      work(tx.objectStore(STORE), result);
    });
  }

  request(id, request, payload) {
    const { namespace: ns, key } = request;
    let work;
    switch (request.op) {
      case 'kvGet':
        work = this.transaction('readonly', (store, result) => {
          const get = store.get([ns, key]);
          get.onsuccess = () => { result.value = get.result; };
        }).then((value) => this.reply((k) => k.kvValue(id, value !== undefined, value ?? new Uint8Array())));
        break;
      case 'kvPut': {
        const value = payload.slice(); // a view into kernel memory: copy now
        work = this.transaction('readwrite', (store) => { store.put(value, [ns, key]); })
          .then(() => this.reply((k) => k.kvDone(id)));
        break;
      }
      case 'kvDelete':
        work = this.transaction('readwrite', (store, result) => {
          const get = store.getKey([ns, key]);
          get.onsuccess = () => { result.value = get.result !== undefined; store.delete([ns, key]); };
        }).then((existed) => this.reply((k) => k.kvValue(id, existed === true, new Uint8Array())));
        break;
      case 'kvList': {
        const { prefix, after, max } = request;
        const lower = after && after >= prefix ? after : prefix;
        const upper = `${prefix}\uffff`;
        if (lower > upper) {
          // Past every key with this prefix: nothing to list (and IDBKeyRange would throw).
          this.reply((k) => k.kvKeys(id, []));
          return;
        }
        const range = IDBKeyRange.bound([ns, lower], [ns, upper], lower === after && after !== '', false);
        work = this.transaction('readonly', (store, result) => {
          const keys = store.getAllKeys(range, max + 1);
          keys.onsuccess = () => { result.value = keys.result.map((k) => k[1]).filter((k) => k.startsWith(prefix)); };
        }).then((keys) => this.reply((k) => k.kvKeys(id, keys)));
        break;
      }
      default:
        return;
    }
    work.catch((err) => {
      const quota = err?.name === 'QuotaExceededError';
      const message = quota
        ? `the browser's storage quota is full; nothing was written (${err.message})`
        : `the browser's storage failed: ${err?.name || 'Error'}: ${err?.message || err}`;
      this.reply((k) => k.hostFailed(id, quota ? 'quota' : 'other', message));
    });
  }
}
