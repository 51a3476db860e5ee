// The capability graph of one inspector snapshot, laid out, and what changed
// between two of them. Pure: no DOM, so it runs (and is tested) under node.
//
// Two layers: processes in a column on the left, ordered by pid; the kernel
// objects their capabilities designate in a column on the right, each placed
// at the mean height of its holders (barycentre) and pushed apart to keep a
// minimum gap. An edge is one capability: process -> object.

export const PROCESS = Object.freeze({ w: 150, h: 40, pitch: 54 });
export const OBJECT = Object.freeze({ rx: 68, ry: 20, pitch: 50 });
const MARGIN = 12;
const GAP = 110; // between the process column and the object column
const PROCESS_X = MARGIN + PROCESS.w / 2;
const OBJECT_X = MARGIN + PROCESS.w + GAP + OBJECT.rx;
const WIDTH = OBJECT_X + OBJECT.rx + MARGIN;
const TOP = MARGIN;

const LIVE = new Set(['running', 'blocked']);
export const isLive = (state) => LIVE.has(state);

const round = (v) => Math.round(v * 10) / 10;

// What a capability is, in words: its CapSet name, or where it came from.
export function capLabel(cap) {
  if (cap.name) return cap.name;
  if (cap.origin === 'received') return `received from pid ${cap.fromPid}`;
  if (cap.origin === 'returned') return cap.via ? `from ${cap.via}` : 'returned';
  return cap.origin || '';
}

// The state line under a process's name.
export function processSublabel(p) {
  const calls = p.blockedOn ?? [];
  const list = calls.length > 2 ? `${calls.slice(0, 2).join(', ')} +${calls.length - 2}` : calls.join(', ');
  if (p.state === 'blocked') return calls.length ? `blocked on ${list}` : 'blocked';
  if (p.state === 'running') return calls.length ? `running · parked ${list}` : 'running';
  if (p.reason) return p.reason;
  return p.exitCode === null || p.exitCode === undefined ? p.state : `${p.state} (${p.exitCode})`;
}

export function layoutGraph(snapshot) {
  const processes = [...(snapshot?.processes ?? [])].sort((a, b) => a.pid - b.pid);
  const nodes = [];
  const edges = [];
  const procY = new Map(); // pid -> y

  processes.forEach((p, i) => {
    const y = TOP + PROCESS.h / 2 + i * PROCESS.pitch;
    procY.set(p.pid, y);
    nodes.push({
      id: `p${p.pid}`, kind: 'process', pid: p.pid, name: p.name, state: p.state,
      x: PROCESS_X, y, w: PROCESS.w, h: PROCESS.h,
      label: `pid ${p.pid} ${p.name}`, sublabel: processSublabel(p),
      blockedOn: p.blockedOn ?? [], faded: !isLive(p.state),
    });
  });

  // Objects: those listed, plus any a capability designates that the list lacks.
  const objects = new Map(); // object -> {object, interface, note, holders:Set, sumY, minPid}
  const objectFor = (object, iface, note = '') => {
    let o = objects.get(object);
    if (!o) {
      o = { object, interface: iface, note, holders: new Set(), sumY: 0, minPid: Infinity };
      objects.set(object, o);
    }
    return o;
  };
  for (const o of snapshot?.objects ?? []) objectFor(o.object, o.interface, o.note ?? '');

  for (const p of processes) {
    const seen = new Map(); // `${object}-${badge}` -> count so far
    for (const cap of p.caps ?? []) {
      const key = `${cap.object}-${cap.badge}`;
      const k = seen.get(key) ?? 0;
      seen.set(key, k + 1);
      const o = objectFor(cap.object, cap.interface);
      if (!o.holders.has(p.pid)) {
        o.holders.add(p.pid);
        o.sumY += procY.get(p.pid);
        o.minPid = Math.min(o.minPid, p.pid);
      }
      edges.push({
        id: `p${p.pid}-o${key}-${k}`, from: `p${p.pid}`, to: `o${cap.object}`,
        pid: p.pid, object: cap.object, badge: String(cap.badge), interface: cap.interface,
        name: cap.name ?? '', origin: cap.origin, fromPid: cap.fromPid ?? 0, via: cap.via ?? '',
        label: capLabel(cap), path: '', mx: 0, my: 0,
      });
    }
  }

  // Object column: barycentre order, ties by smallest holder pid then number;
  // objects nobody holds go last.
  const column = [...objects.values()].map((o) => ({
    ...o, bary: o.holders.size ? o.sumY / o.holders.size : Infinity,
  }));
  column.sort((a, b) => (a.bary - b.bary) || (a.minPid - b.minPid) || (a.object - b.object));
  const first = TOP + OBJECT.ry;
  const ys = [];
  let free = first;
  for (const o of column) { // top-down: at its barycentre, or just below the one above
    const want = Number.isFinite(o.bary) ? o.bary : free;
    ys.push(Math.max(want, free));
    free = ys.at(-1) + OBJECT.pitch;
  }
  const lastProcessY = processes.length ? procY.get(processes.at(-1).pid) : first;
  const limit = Math.max(lastProcessY, first + (column.length - 1) * OBJECT.pitch);
  for (let i = ys.length - 1, cap = limit; i >= 0; i--) { // bottom-up: no lower than needed
    ys[i] = Math.min(ys[i], cap);
    cap = ys[i] - OBJECT.pitch;
  }
  const objY = new Map();
  column.forEach((o, i) => {
    objY.set(o.object, ys[i]);
    nodes.push({
      id: `o${o.object}`, kind: 'object', object: o.object, interface: o.interface, note: o.note,
      x: OBJECT_X, y: ys[i], rx: OBJECT.rx, ry: OBJECT.ry,
      label: `${o.interface} #${o.object}`, sublabel: o.note, faded: o.holders.size === 0,
      holders: o.holders.size,
    });
  });

  placeEdges(edges, procY, objY);

  let bottom = TOP;
  for (const n of nodes) bottom = Math.max(bottom, n.y + (n.kind === 'process' ? PROCESS.h / 2 : OBJECT.ry));
  return { nodes, edges, width: WIDTH, height: Math.ceil(bottom + MARGIN) };
}

// Spreads each node's edge ends over its side, in the order of the other
// ends' heights, so parallel edges don't overlap, then draws each as a cubic
// curve with horizontal tangents.
function placeEdges(edges, procY, objY) {
  const n = edges.length;
  const y1 = new Float64Array(n); // node centres, then the edge's two ends
  const y2 = new Float64Array(n);
  const byPid = new Map();
  const byObject = new Map();
  edges.forEach((e, i) => {
    y1[i] = procY.get(e.pid);
    y2[i] = objY.get(e.object);
    if (!byPid.has(e.pid)) byPid.set(e.pid, []);
    byPid.get(e.pid).push(i);
    if (!byObject.has(e.object)) byObject.set(e.object, []);
    byObject.get(e.object).push(i);
  });
  // Sorted by the other end's height (ties in edge order), spaced `step`
  // apart, at most `room` in all, centred.
  const spread = (group, other, ends, room, step) => {
    group.sort((a, b) => (other[a] - other[b]) || (a - b));
    const s = group.length > 1 ? Math.min(step, room / (group.length - 1)) : 0;
    const mid = (group.length - 1) / 2;
    group.forEach((i, slot) => { ends[i] = (slot - mid) * s; });
  };
  const dy1 = new Float64Array(n);
  const dy2 = new Float64Array(n);
  for (const group of byPid.values()) spread(group, y2, dy1, PROCESS.h - 10, 6);
  for (const group of byObject.values()) spread(group, y1, dy2, 2 * OBJECT.ry - 10, 5);
  const x1 = PROCESS_X + PROCESS.w / 2;
  edges.forEach((e, i) => {
    const a = y1[i] + dy1[i];
    const x2 = OBJECT_X - OBJECT.rx * Math.sqrt(1 - (dy2[i] / OBJECT.ry) ** 2);
    const b = y2[i] + dy2[i];
    const c = (x2 - x1) / 2;
    e.path = `M${round(x1)} ${round(a)}C${round(x1 + c)} ${round(a)} ${round(x2 - c)} ${round(b)} ${round(x2)} ${round(b)}`;
    e.mx = round((x1 + x2) / 2); // the curve's midpoint, for its badge
    e.my = round((a + b) / 2);
  });
}

// What changed from one layout to the next. status maps every edge id of
// `next` to 'new' | 'same' | 'copied' | 'moved', and every edge id only in
// `prev` to 'gone' | 'revoked' (its holder ended); `removed` lists those
// edges of prev. An edge that appears at pid B from pid A (fromPid) is
// 'moved' when A lost an edge to the same object with the same badge,
// otherwise 'copied'. With no prev, every edge is 'new'.
export function diffGraphs(prev, next) {
  const status = new Map();
  const removed = [];
  if (!prev) {
    for (const e of next.edges) status.set(e.id, 'new');
    return { status, removed };
  }
  const prevIds = new Map(prev.edges.map((e) => [e.id, e]));
  const nextIds = new Set(next.edges.map((e) => e.id));
  const ended = new Set(); // pids live in prev that are ended (or gone) in next
  const nextState = new Map(next.nodes.filter((n) => n.kind === 'process').map((n) => [n.pid, n.state]));
  for (const n of prev.nodes) {
    if (n.kind === 'process' && isLive(n.state) && !isLive(nextState.get(n.pid))) ended.add(n.pid);
  }
  // What each process lost, per (pid, object, badge): moves consume these.
  const lost = new Map();
  for (const e of prev.edges) {
    if (nextIds.has(e.id)) continue;
    const key = `${e.pid}|${e.object}|${e.badge}`;
    lost.set(key, (lost.get(key) ?? 0) + 1);
    removed.push(e);
    status.set(e.id, ended.has(e.pid) ? 'revoked' : 'gone');
  }
  for (const e of next.edges) {
    if (prevIds.has(e.id)) {
      status.set(e.id, 'same');
      continue;
    }
    if (e.fromPid > 0 && e.fromPid !== e.pid) {
      const key = `${e.fromPid}|${e.object}|${e.badge}`;
      const n = lost.get(key) ?? 0;
      if (n > 0) lost.set(key, n - 1);
      status.set(e.id, n > 0 ? 'moved' : 'copied');
    } else {
      status.set(e.id, 'new');
    }
  }
  return { status, removed };
}
