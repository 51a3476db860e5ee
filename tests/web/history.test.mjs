// The inspector's history of snapshots (web/ui/inspector/history.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHistory, historyLabel } from '../../web/ui/inspector/history.js';

const snap = (seq, atMs = seq) => ({ type: 'inspector', seq, atMs, processes: [], objects: [] });

test('follows the newest snapshot until a step is chosen, and again after live()', () => {
  const h = createHistory(10);
  assert.equal(h.current(), undefined);
  assert.equal(h.index(), -1);
  for (let i = 1; i <= 3; i++) h.push(snap(i));
  assert.equal(h.follow, true);
  assert.equal(h.current().snapshot.seq, 3);
  h.select(1);
  h.push(snap(4));
  assert.equal(h.follow, false);
  assert.equal(h.current().snapshot.seq, 2, 'a chosen step stays put while snapshots arrive');
  h.step(-1);
  assert.equal(h.current().step, 1);
  h.step(-1);
  assert.equal(h.current().step, 1, 'clamped at the first');
  h.select(99);
  assert.equal(h.current().step, 4, 'clamped at the newest');
  h.live();
  h.push(snap(5));
  assert.equal(h.current().snapshot.seq, 5);
});

test('bounded: drops the oldest but always keeps the first', () => {
  const h = createHistory(5);
  for (let i = 1; i <= 12; i++) h.push(snap(i));
  assert.equal(h.length, 5);
  assert.equal(h.total, 12);
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => h.at(i).step), [1, 9, 10, 11, 12]);
  assert.equal(h.first().snapshot.seq, 1);
  assert.equal(h.latest().snapshot.seq, 12);
});

test('a chosen step that is dropped moves to the oldest kept after it', () => {
  const h = createHistory(4);
  for (let i = 1; i <= 4; i++) h.push(snap(i));
  h.select(1); // step 2
  h.push(snap(5)); // drops step 2
  assert.equal(h.current().step, 3);
  h.select(0);
  for (let i = 6; i <= 20; i++) h.push(snap(i));
  assert.equal(h.current().step, 1, 'the first is never dropped');
});

test('clear starts a new boot', () => {
  const h = createHistory(4);
  h.push(snap(1));
  h.select(0);
  h.clear();
  assert.deepEqual([h.length, h.total, h.follow, h.index()], [0, 0, true, -1]);
});

test('the label: step, total, and ms since the origin', () => {
  const h = createHistory(100);
  assert.equal(historyLabel(h, undefined), 'no snapshot yet');
  for (let i = 0; i < 40; i++) h.push(snap(i + 1, 1000 + i * 4));
  h.select(11);
  assert.equal(historyLabel(h, 1000), 'step 12 / 40 · 44 ms');
});

test('a history needs room for the first and the newest', () => {
  assert.throws(() => createHistory(1), RangeError);
});
