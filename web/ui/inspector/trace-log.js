// The call trace's bookkeeping, without the DOM (tested under node): the last
// `limit` calls, what has not been shown yet, pausing, and filtering.

// A filter is {pid: '' | '3', interface: '' | 'Endpoint'}; '' matches all.
export function matchesFilter(call, filter) {
  if (filter.pid !== '' && String(call.pid) !== filter.pid) return false;
  if (filter.interface !== '' && call.interface !== filter.interface) return false;
  return true;
}

// Keeps the last `limit` items of what it is given.
export const lastOf = (items, limit) => (items.length > limit ? items.slice(items.length - limit) : items);

// `kept`: the last `limit` calls, oldest first, each as {call, row} (row is
// for the view; null until it makes one). `fresh`: calls not yet shown.
// While paused, arriving calls wait in `held` (the last `limit` of them;
// `heldCount` counts all) and are released on resume.
export function createTraceLog(limit = 500) {
  const log = {
    kept: [],
    fresh: [],
    held: [],
    heldCount: 0,
    paused: false,
    dropped: 0, // calls the kernel reported it dropped
    pids: new Set(),
    interfaces: new Set(),
    add(calls, dropped = 0) {
      log.dropped += dropped;
      for (const c of calls) {
        log.pids.add(c.pid);
        log.interfaces.add(c.interface);
      }
      if (log.paused) {
        log.held = lastOf(log.held.concat(calls), limit);
        log.heldCount += calls.length;
      } else {
        log.fresh = lastOf(log.fresh.concat(calls), limit);
      }
    },
    pause() {
      log.paused = true;
    },
    resume() {
      log.paused = false;
      log.fresh = lastOf(log.fresh.concat(log.held), limit);
      log.held = [];
      log.heldCount = 0;
    },
    // Moves the fresh calls into `kept`; returns the entries added and the
    // entries that fell off the front (whose rows the view removes).
    take() {
      const added = log.fresh.map((call) => ({ call, row: null }));
      log.fresh = [];
      log.kept = log.kept.concat(added);
      const excess = log.kept.length - limit;
      const evicted = excess > 0 ? log.kept.splice(0, excess) : [];
      // `fresh` holds at most `limit`, so only older entries fall off.
      return { added, evicted };
    },
    // Drops the calls, keeping what was seen (for the filters) and pausing.
    forget() {
      Object.assign(log, { kept: [], fresh: [], held: [], heldCount: 0 });
    },
    clear() {
      Object.assign(log, { kept: [], fresh: [], held: [], heldCount: 0, dropped: 0, paused: false });
      log.pids.clear();
      log.interfaces.clear();
    },
  };
  return log;
}
