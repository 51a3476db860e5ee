// The call trace's bookkeeping (web/ui/inspector/trace-log.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTraceLog, matchesFilter } from '../../web/ui/inspector/trace-log.js';

const call = (n, extra = {}) => ({ pid: 1 + (n % 3), interface: n % 2 ? 'Endpoint' : 'Console', method: 'call', outcome: 'ok', parked: false, startMs: n, durUs: 1, message: '', ...extra });
const calls = (from, to) => Array.from({ length: to - from }, (_, i) => call(from + i));

test('filters by pid and by interface', () => {
  const all = { pid: '', interface: '' };
  assert.ok(matchesFilter(call(1), all));
  assert.ok(matchesFilter(call(1), { pid: '2', interface: '' }));
  assert.ok(!matchesFilter(call(1), { pid: '3', interface: '' }));
  assert.ok(matchesFilter(call(1), { pid: '2', interface: 'Endpoint' }));
  assert.ok(!matchesFilter(call(2), { pid: '', interface: 'Endpoint' }));
});

test('keeps the last `limit` calls; take() says which fell off', () => {
  const log = createTraceLog(5);
  log.add(calls(0, 3));
  let { added, evicted } = log.take();
  assert.deepEqual([added.length, evicted.length], [3, 0]);
  log.add(calls(3, 7));
  ({ added, evicted } = log.take());
  assert.deepEqual(added.map((e) => e.call.startMs), [3, 4, 5, 6]);
  assert.deepEqual(evicted.map((e) => e.call.startMs), [0, 1]);
  assert.deepEqual(log.kept.map((e) => e.call.startMs), [2, 3, 4, 5, 6]);
  log.add(calls(7, 20)); // more than fits in one frame
  ({ added, evicted } = log.take());
  assert.deepEqual(added.map((e) => e.call.startMs), [15, 16, 17, 18, 19]);
  assert.equal(evicted.length, 5);
  assert.equal(log.take().added.length, 0, 'nothing new: nothing to do');
});

test('paused: nothing changes; calls are counted, kept (bounded) and released on resume', () => {
  const log = createTraceLog(5);
  log.add(calls(0, 2));
  log.take();
  log.pause();
  log.add(calls(2, 4));
  log.add(calls(4, 10), 3);
  assert.deepEqual([log.take().added.length, log.heldCount, log.held.length, log.dropped], [0, 8, 5, 3]);
  assert.deepEqual(log.kept.map((e) => e.call.startMs), [0, 1]);
  log.resume();
  const { added } = log.take();
  assert.deepEqual(added.map((e) => e.call.startMs), [5, 6, 7, 8, 9]);
  assert.equal(log.heldCount, 0);
});

test('remembers the pids and interfaces seen, for the filters; clear forgets them', () => {
  const log = createTraceLog(2);
  log.add(calls(0, 6));
  assert.deepEqual([...log.pids].sort(), [1, 2, 3]);
  assert.deepEqual([...log.interfaces].sort(), ['Console', 'Endpoint']);
  log.forget();
  assert.equal(log.pids.size, 3, 'forgetting the calls keeps the filter options');
  log.pause();
  log.clear();
  assert.deepEqual([log.pids.size, log.kept.length, log.paused], [0, 0, false]);
});
