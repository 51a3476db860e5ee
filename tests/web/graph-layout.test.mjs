// The inspector's capability graph: layout and the diff between snapshots
// (web/ui/inspector/graph-layout.js), with the ipc demo's boot as the example.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layoutGraph, diffGraphs, capLabel } from '../../web/ui/inspector/graph-layout.js';

const counters = { sqes: 0, cqes: 0, inFlight: 0, doorbellWaits: 0, cqStalls: 0 };
const cap = (object, iface, extra = {}) => ({ name: '', origin: 'granted', fromPid: 0, via: '', interface: iface, badge: '0', object, ...extra });
const proc = (pid, name, caps, extra = {}) => ({ pid, name, state: 'running', blockedOn: [], exitCode: null, reason: '', counters, caps, ...extra });
const objects = [
  { object: 1, interface: 'Console', note: 'stdout' },
  { object: 2, interface: 'ProcessSpawner', note: '' },
  { object: 3, interface: 'BootPackage', note: '' },
  { object: 4, interface: 'EndpointFactory', note: '' },
  { object: 5, interface: 'Endpoint', note: '' },
];
const initBase = [
  cap(1, 'Console', { name: 'console' }),
  cap(2, 'ProcessSpawner', { name: 'spawner' }),
  cap(3, 'BootPackage', { name: 'boot' }),
  cap(4, 'EndpointFactory', { name: 'endpoints' }),
];
const received = (object, iface, badge = '0', name = '') => cap(object, iface, { name, origin: 'received', fromPid: 1, badge });

// init made an endpoint and two call-only copies, badge 1 and badge 2.
const beforeSpawn = {
  type: 'inspector', seq: 5, atMs: 10,
  processes: [proc(1, 'init', [
    ...initBase,
    cap(5, 'Endpoint', { origin: 'returned', via: 'EndpointFactory.create' }),
    cap(5, 'Endpoint', { origin: 'returned', via: 'Endpoint.mint', badge: '1' }),
    cap(5, 'Endpoint', { origin: 'returned', via: 'Endpoint.mint', badge: '2' }),
  ])],
  objects,
};
// init spawned the server (pid 2, endpoint moved) and two clients (console copied, badged copy moved).
const afterSpawn = {
  type: 'inspector', seq: 9, atMs: 14,
  processes: [
    proc(4, 'ipc-client', [received(1, 'Console', '0', 'console'), received(5, 'Endpoint', '2', 'server')]),
    proc(1, 'init', [...initBase, cap(6, 'Process', { origin: 'returned', via: 'ProcessSpawner.spawn' })], { state: 'blocked', blockedOn: ['Process.wait'] }),
    proc(2, 'ipc-server', [received(1, 'Console', '0', 'console'), received(5, 'Endpoint', '0', 'endpoint')], { state: 'blocked', blockedOn: ['Endpoint.receive'] }),
    proc(3, 'ipc-client', [received(1, 'Console', '0', 'console'), received(5, 'Endpoint', '1', 'server')]),
  ],
  objects: [...objects, { object: 6, interface: 'Process', note: 'pid 2' }],
};
// pid 3 is done.
const clientExited = {
  ...afterSpawn, seq: 12, atMs: 20,
  processes: afterSpawn.processes.map((p) => (p.pid === 3
    ? { ...p, state: 'exited', exitCode: 0, reason: 'exited with code 0', caps: [], blockedOn: [] } : p)),
};

test('processes form the left column in pid order; objects the right column', () => {
  const g = layoutGraph(afterSpawn);
  const procs = g.nodes.filter((n) => n.kind === 'process');
  const objs = g.nodes.filter((n) => n.kind === 'object');
  assert.deepEqual(procs.map((n) => n.id), ['p1', 'p2', 'p3', 'p4']);
  assert.ok(procs.every((n) => n.x === procs[0].x), 'one column');
  assert.ok(procs.every((n, i) => i === 0 || n.y > procs[i - 1].y), 'top to bottom by pid');
  assert.ok(objs.every((n) => n.x > procs[0].x), 'objects to the right');
  assert.deepEqual(objs.map((n) => n.object).sort(), [1, 2, 3, 4, 5, 6]);
  const ys = objs.map((n) => n.y).sort((a, b) => a - b);
  assert.ok(ys.every((y, i) => i === 0 || y - ys[i - 1] >= 49.9), 'object nodes do not overlap');
  for (const n of g.nodes) {
    assert.ok(n.y >= 0 && n.y <= g.height && n.x >= 0 && n.x <= g.width, `${n.id} is inside the picture`);
  }
  assert.equal(procs[0].label, 'pid 1 init');
  assert.equal(procs[1].sublabel, 'blocked on Endpoint.receive');
  const endpoint = objs.find((n) => n.object === 5);
  assert.equal(endpoint.label, 'Endpoint #5');
  assert.equal(endpoint.holders, 3, 'the server and both clients meet at one node');
});

test('objects held only by init come first; the endpoint sits among its holders', () => {
  const g = layoutGraph(afterSpawn);
  const y = (id) => g.nodes.find((n) => n.id === id).y;
  assert.ok(y('o2') < y('o5') && y('o3') < y('o5') && y('o4') < y('o5'));
  assert.ok(y('o5') > y('p1'), 'pulled down towards pids 2-4');
});

test('edges: one per capability, with stable ids, badges and origins', () => {
  const g = layoutGraph(afterSpawn);
  const ids = new Set(g.nodes.map((n) => n.id));
  assert.equal(g.edges.length, 5 + 2 * 3);
  for (const e of g.edges) {
    assert.ok(ids.has(e.from) && ids.has(e.to), `${e.id} joins two nodes`);
    assert.match(e.path, /^M[\d.]+ [\d.]+C/);
  }
  const e = g.edges.find((x) => x.id === 'p3-o5-1-0');
  assert.deepEqual([e.from, e.to, e.badge, e.origin, e.fromPid, e.label], ['p3', 'o5', '1', 'received', 1, 'server']);
  assert.equal(new Set(g.edges.map((x) => x.id)).size, g.edges.length, 'ids are unique');
});

test('duplicate capabilities to one object with one badge are numbered', () => {
  const g = layoutGraph({ processes: [proc(1, 'init', [cap(1, 'Console'), cap(1, 'Console'), cap(1, 'Console', { badge: '7' })])], objects: [] });
  assert.deepEqual(g.edges.map((e) => e.id), ['p1-o1-0-0', 'p1-o1-0-1', 'p1-o1-7-0']);
  assert.equal(g.nodes.find((n) => n.id === 'o1').label, 'Console #1', 'an object missing from the list still gets a node');
});

test('the layout is deterministic and does not depend on input order', () => {
  const shuffled = { ...afterSpawn, processes: [...afterSpawn.processes].reverse(), objects: [...afterSpawn.objects].reverse() };
  assert.deepEqual(layoutGraph(afterSpawn), layoutGraph(afterSpawn));
  assert.deepEqual(layoutGraph(shuffled), layoutGraph(afterSpawn));
});

test('ended processes stay, faded, with how they ended', () => {
  const g = layoutGraph(clientExited);
  const p3 = g.nodes.find((n) => n.id === 'p3');
  assert.equal(p3.faded, true);
  assert.equal(p3.sublabel, 'exited with code 0');
  assert.ok(!g.edges.some((e) => e.pid === 3));
  assert.equal(g.nodes.find((n) => n.id === 'p1').faded, false);
});

test('capability labels: CapSet name, or where it came from', () => {
  assert.equal(capLabel(cap(1, 'Console', { name: 'console' })), 'console');
  assert.equal(capLabel(cap(5, 'Endpoint', { origin: 'received', fromPid: 4 })), 'received from pid 4');
  assert.equal(capLabel(cap(5, 'Endpoint', { origin: 'returned', via: 'Endpoint.mint' })), 'from Endpoint.mint');
});

test('diff of the ipc spawn: endpoint caps moved, console copied, init lost its copies', () => {
  const { status, removed } = diffGraphs(layoutGraph(beforeSpawn), layoutGraph(afterSpawn));
  assert.equal(status.get('p2-o5-0-0'), 'moved', 'the server capability moved to the server');
  assert.equal(status.get('p3-o5-1-0'), 'moved', 'badge 1 moved to pid 3');
  assert.equal(status.get('p4-o5-2-0'), 'moved', 'badge 2 moved to pid 4');
  for (const pid of [2, 3, 4]) assert.equal(status.get(`p${pid}-o1-0-0`), 'copied', `console copied to pid ${pid}`);
  assert.equal(status.get('p1-o1-0-0'), 'same');
  assert.equal(status.get('p1-o6-0-0'), 'new', 'the process handle init got back');
  assert.deepEqual(removed.map((e) => e.id).sort(), ['p1-o5-0-0', 'p1-o5-1-0', 'p1-o5-2-0']);
  for (const e of removed) assert.equal(status.get(e.id), 'gone');
});

test('a transfer whose sender kept its capability is a copy', () => {
  const kept = { ...afterSpawn, processes: afterSpawn.processes.map((p) => (p.pid === 1 ? { ...p, caps: beforeSpawn.processes[0].caps } : p)) };
  const { status } = diffGraphs(layoutGraph(beforeSpawn), layoutGraph(kept));
  assert.equal(status.get('p3-o5-1-0'), 'copied');
  assert.equal(status.get('p1-o5-1-0'), 'same');
});

test('one lost capability accounts for one move only', () => {
  const a = { processes: [proc(1, 'a', [cap(9, 'Endpoint', { badge: '3' })]), proc(2, 'b', []), proc(3, 'c', [])], objects: [] };
  const b = { processes: [proc(1, 'a', []),
    proc(2, 'b', [cap(9, 'Endpoint', { badge: '3', origin: 'received', fromPid: 1 })]),
    proc(3, 'c', [cap(9, 'Endpoint', { badge: '3', origin: 'received', fromPid: 1 })])], objects: [] };
  const { status } = diffGraphs(layoutGraph(a), layoutGraph(b));
  assert.deepEqual([status.get('p2-o9-3-0'), status.get('p3-o9-3-0')].sort(), ['copied', 'moved']);
});

test('a process that ends has its capabilities revoked', () => {
  const { status, removed } = diffGraphs(layoutGraph(afterSpawn), layoutGraph(clientExited));
  assert.deepEqual(removed.map((e) => e.id).sort(), ['p3-o1-0-0', 'p3-o5-1-0']);
  assert.equal(status.get('p3-o5-1-0'), 'revoked');
  assert.equal(status.get('p3-o1-0-0'), 'revoked');
  assert.equal(status.get('p4-o5-2-0'), 'same');
  assert.ok([...status.values()].every((s) => s === 'same' || s === 'revoked'));
});

test('with nothing before, every edge is new', () => {
  const g = layoutGraph(beforeSpawn);
  const { status, removed } = diffGraphs(null, g);
  assert.equal(removed.length, 0);
  assert.ok(g.edges.every((e) => status.get(e.id) === 'new'));
});

test('an empty snapshot lays out to an empty picture', () => {
  const g = layoutGraph({ processes: [], objects: [] });
  assert.deepEqual([g.nodes, g.edges], [[], []]);
  assert.ok(g.width > 0 && g.height > 0);
});

// 50 processes, ~300 capabilities over ~60 objects, one snapshot after another.
function bigSnapshot(seed) {
  const processes = [];
  for (let pid = 1; pid <= 50; pid++) {
    const caps = [cap(1, 'Console', { name: 'console' })];
    for (let i = 0; i < 5; i++) {
      const object = 2 + ((pid * 7 + i * 13 + seed) % 60);
      caps.push(cap(object, 'Endpoint', { origin: 'received', fromPid: 1 + ((pid + i) % 50), badge: String((pid + i + seed) % 4) }));
    }
    processes.push(proc(pid, `worker-${pid}`, caps, pid % 3 ? {} : { state: 'blocked', blockedOn: ['Endpoint.call'] }));
  }
  return { processes, objects: [{ object: 1, interface: 'Console', note: 'stdout' }] };
}

test('50 processes and 300 capabilities: layout and diff in well under a frame', () => {
  const snaps = [bigSnapshot(0), bigSnapshot(1)];
  assert.equal(layoutGraph(snaps[0]).edges.length, 300);
  for (let i = 0; i < 20; i++) diffGraphs(layoutGraph(snaps[i % 2]), layoutGraph(snaps[(i + 1) % 2])); // warm up
  const times = [];
  for (let i = 0; i < 40; i++) {
    const t0 = performance.now();
    const a = layoutGraph(snaps[i % 2]);
    const b = layoutGraph(snaps[(i + 1) % 2]);
    diffGraphs(a, b);
    times.push((performance.now() - t0) / 2);
  }
  times.sort((a, b) => a - b);
  const median = times[times.length >> 1];
  console.log(`layout + diff of 50 processes / 300 edges: median ${median.toFixed(3)} ms`);
  assert.ok(median < 4, `median ${median} ms`);
});
