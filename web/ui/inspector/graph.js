// The capability graph as SVG: process nodes (rounded rects) on the left,
// kernel objects (ellipses) on the right, one curve per capability. Elements
// are kept per node and edge id across renders, so only what changed is
// touched and CSS animates the diff (style.css, #inspector rules): new and
// copied edges draw in, moved edges glow with "moved from pid A", gone and
// revoked edges fade out in red.
//
// Every element carries data attributes describing what it shows, for
// end-to-end tests and DevTools; all text goes in with textContent.

import { PROCESS, OBJECT } from './graph-layout.js';

const SVG = 'http://www.w3.org/2000/svg';
const FADE_MS = 650; // removed elements stay this long, fading (CSS: 600 ms)
const MAX_FADING = 400;
const APPEAR_MS = 400;
// While following live, an edge's status is kept on screen this long even if
// the next snapshot calls it 'same', so its animation is not cut short.
const HOLD_MS = { new: 700, copied: 700, moved: 1800 };

const svg = (tag, attrs = {}, text) => {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
};

const clip = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
// Characters that fit: 11px monospace is about 6.6px wide, 10px about 6px.
const PROCESS_CHARS = Math.floor((PROCESS.w - 12) / 6.6);
const PROCESS_SUB_CHARS = Math.floor((PROCESS.w - 12) / 6);
const OBJECT_CHARS = Math.floor((OBJECT.rx * 1.7) / 6.6);
const OBJECT_SUB_CHARS = Math.floor((OBJECT.rx * 1.6) / 6);

function edgeTitle(e, shown) {
  const parts = [e.label || '(unnamed)', `${e.interface} → object #${e.object}`, `badge ${e.badge}`];
  if (e.origin === 'received') parts.push(`received from pid ${e.fromPid}`);
  else if (e.origin === 'returned') parts.push(e.via ? `returned by ${e.via}` : 'returned');
  else parts.push(e.fromPid > 0 ? `granted at spawn by pid ${e.fromPid}` : 'granted at spawn');
  if (shown === 'moved') parts.push(`moved from pid ${e.fromPid}`);
  else if (shown === 'copied') parts.push(`copied from pid ${e.fromPid}`);
  else if (shown === 'gone' || shown === 'revoked') parts.push(shown);
  return `pid ${e.pid}: ${parts.join('\n')}`;
}

function fillProcess(g, n) {
  const title = [n.label, n.sublabel];
  if (n.blockedOn.length) title.push(`parked calls: ${n.blockedOn.join(', ')}`);
  g.replaceChildren(
    svg('title', {}, title.join('\n')),
    svg('rect', { x: -n.w / 2, y: -n.h / 2, width: n.w, height: n.h, rx: 7 }),
    svg('text', { class: 'label', x: -n.w / 2 + 7, y: -3 }, clip(n.label, PROCESS_CHARS)),
    svg('text', { class: 'sublabel', x: -n.w / 2 + 7, y: 12 }, clip(n.sublabel, PROCESS_SUB_CHARS)),
  );
}

function fillObject(g, n) {
  const title = [n.label, n.note, `${n.holders} holder(s)`].filter(Boolean);
  const children = [
    svg('title', {}, title.join('\n')),
    svg('ellipse', { rx: n.rx, ry: n.ry }),
    svg('text', { class: 'label', y: n.sublabel ? -2 : 4, 'text-anchor': 'middle' }, clip(n.label, OBJECT_CHARS)),
  ];
  if (n.sublabel) children.push(svg('text', { class: 'sublabel', y: 11, 'text-anchor': 'middle' }, clip(n.sublabel, OBJECT_SUB_CHARS)));
  g.replaceChildren(...children);
}

// Builds an edge's elements; returns them so a move only updates geometry.
function fillEdge(g, e, shown) {
  const parts = {
    hit: svg('path', { class: 'hit', d: e.path }),
    wire: svg('path', { class: 'wire', d: e.path, pathLength: 1 }),
    badge: null,
    moved: null,
  };
  const children = [svg('title', {}, edgeTitle(e, shown)), parts.hit, parts.wire];
  if (e.badge !== '0') {
    const text = clip(e.badge, 12);
    const w = text.length * 6 + 8;
    parts.badge = svg('g', { class: 'badge', transform: `translate(${e.mx},${e.my})` });
    parts.badge.append(svg('rect', { x: -w / 2, y: -7, width: w, height: 14, rx: 7 }), svg('text', { y: 3.5, 'text-anchor': 'middle' }, text));
    children.push(parts.badge);
  }
  if (shown === 'moved') {
    parts.moved = svg('text', { class: 'moved-label', 'text-anchor': 'middle' }, `moved from pid ${e.fromPid}`);
    children.push(parts.moved);
  }
  g.replaceChildren(...children);
  return parts;
}

function placeEdge(parts, e) {
  parts.hit.setAttribute('d', e.path);
  parts.wire.setAttribute('d', e.path);
  parts.badge?.setAttribute('transform', `translate(${e.mx},${e.my})`);
  parts.moved?.setAttribute('x', String(e.mx));
  parts.moved?.setAttribute('y', String(e.my + (parts.badge ? 18 : 12)));
}

function setData(g, data) {
  for (const [k, v] of Object.entries(data)) g.setAttribute(`data-${k}`, String(v));
}

export function createGraph({ onSelectProcess }) {
  const element = document.createElement('div');
  element.className = 'graph';
  const root = svg('svg', { role: 'img', 'aria-label': 'capability graph: processes, the kernel objects their capabilities designate' });
  const edgeLayer = svg('g', { class: 'edges' });
  const nodeLayer = svg('g', { class: 'nodes' });
  root.append(edgeLayer, nodeLayer);
  element.append(root);

  const nodes = new Map(); // id -> {el, key, cls, transform, appearUntil, timer}
  const edges = new Map(); // id -> {el, key, cls, shown, until, timer, parts, path}
  let selected = null;

  // Removed elements fade out; past MAX_FADING at once (heavy churn) the
  // rest just go, so the page never piles up fading elements.
  let fading = 0;
  const drop = (map, id, rec) => {
    rec.el.remove();
    if (map.get(id) === rec) map.delete(id);
  };
  const fadeOut = (map, id, rec) => {
    if (rec.timer) return;
    if (fading >= MAX_FADING) {
      drop(map, id, rec);
      return;
    }
    fading += 1;
    rec.el.classList.add('removed');
    // What a fading element showed is no longer there: only its id and why
    // it went stay queryable (data-edge, data-status).
    for (const name of rec.el.getAttributeNames()) {
      if (name.startsWith('data-') && name !== 'data-edge' && name !== 'data-status') rec.el.removeAttribute(name);
    }
    rec.timer = setTimeout(() => {
      fading -= 1;
      drop(map, id, rec);
    }, FADE_MS);
  };
  const revive = (rec) => {
    if (!rec.timer) return;
    clearTimeout(rec.timer);
    fading -= 1;
    rec.timer = 0;
    rec.cls = ''; // rewritten below, without 'removed'
    rec.key = ''; // and its content and data attributes
  };

  const setClass = (rec, cls) => {
    if (rec.cls !== cls) {
      rec.el.setAttribute('class', cls);
      rec.cls = cls;
    }
  };

  const renderNode = (n, now, first) => {
    let rec = nodes.get(n.id);
    if (!rec) {
      const el = svg('g');
      if (n.kind === 'process') {
        el.setAttribute('tabindex', '0');
        el.setAttribute('role', 'button');
      }
      rec = { el, key: '', cls: '', transform: '', appearUntil: first ? 0 : now + APPEAR_MS, timer: 0 };
      nodes.set(n.id, rec);
      nodeLayer.append(el);
    }
    revive(rec);
    const key = JSON.stringify([n.label, n.sublabel, n.state, n.note, n.holders, n.blockedOn]);
    if (key !== rec.key) {
      rec.key = key;
      if (n.kind === 'process') {
        fillProcess(rec.el, n);
        setData(rec.el, { pid: n.pid, name: n.name, state: n.state, 'blocked-on': n.blockedOn.join(' ') });
      } else {
        fillObject(rec.el, n);
        setData(rec.el, { object: n.object, interface: n.interface, note: n.note, holders: n.holders });
      }
    }
    const transform = `translate(${n.x},${n.y})`;
    if (transform !== rec.transform) {
      rec.el.setAttribute('transform', transform);
      rec.transform = transform;
    }
    let cls = `node ${n.kind}`;
    if (n.kind === 'process') cls += ` state-${n.state}${n.pid === selected ? ' selected' : ''}`;
    if (n.faded) cls += ' faded';
    if (now < rec.appearUntil) cls += ' appear';
    setClass(rec, cls);
  };

  const renderEdge = (e, status, now, hold) => {
    let rec = edges.get(e.id);
    if (!rec) {
      rec = { el: svg('g'), key: '', cls: '', shown: 'same', until: 0, timer: 0, parts: null, path: '' };
      edges.set(e.id, rec);
      edgeLayer.append(rec.el);
    }
    revive(rec);
    if (status !== 'same' || !hold || now >= rec.until) {
      rec.shown = status;
      rec.until = now + (HOLD_MS[status] ?? 0);
    }
    const shown = rec.shown;
    const key = JSON.stringify([e.badge, e.label, e.interface, e.origin, e.fromPid, e.via, shown]);
    if (key !== rec.key) {
      rec.key = key;
      rec.parts = fillEdge(rec.el, e, shown);
      rec.path = '';
      setData(rec.el, {
        edge: e.id, pid: e.pid, object: e.object, badge: e.badge, interface: e.interface, name: e.name,
        origin: e.origin, 'from-pid': e.fromPid, via: e.via, status: shown,
      });
    }
    if (rec.path !== e.path) {
      rec.path = e.path;
      placeEdge(rec.parts, e);
    }
    setClass(rec, `edge origin-${e.origin} st-${shown}${status === 'gone' || status === 'revoked' ? ' removed' : ''}`);
  };

  // Clicking (or Enter on) a process node selects it.
  const pick = (event) => {
    const node = event.target.closest?.('g.node.process');
    if (node) onSelectProcess(Number(node.getAttribute('data-pid')));
  };
  element.addEventListener('click', pick);
  element.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' && event.key !== ' ') return;
    event.preventDefault();
    pick(event);
  });

  return {
    element,
    // Shows `layout`; `diff` (from diffGraphs) says how each edge changed.
    // `hold`: keep an edge's recent animation going (following live).
    render(layout, diff, { hold = false } = {}) {
      const now = performance.now();
      const first = nodes.size === 0;
      root.setAttribute('width', layout.width);
      root.setAttribute('height', layout.height);
      root.setAttribute('viewBox', `0 0 ${layout.width} ${layout.height}`);

      const liveNodes = new Set();
      for (const n of layout.nodes) {
        liveNodes.add(n.id);
        renderNode(n, now, first);
      }
      for (const [id, rec] of nodes) if (!liveNodes.has(id)) fadeOut(nodes, id, rec);

      const liveEdges = new Set();
      for (const e of layout.edges) {
        liveEdges.add(e.id);
        renderEdge(e, diff.status.get(e.id) ?? 'same', now, hold);
      }
      // Removed this step: fade out where they were (made if not on screen).
      for (const e of diff.removed) {
        if (liveEdges.has(e.id)) continue;
        const status = diff.status.get(e.id) ?? 'gone';
        const rec = edges.get(e.id);
        if (rec?.timer) continue; // already fading
        if (!rec && fading >= MAX_FADING) continue;
        renderEdge(e, status, now, false);
        liveEdges.add(e.id);
        fadeOut(edges, e.id, edges.get(e.id));
      }
      // Anything else on screen but not in this step goes at once (scrubbing).
      for (const [id, rec] of edges) {
        if (liveEdges.has(id) || rec.timer) continue;
        rec.el.remove();
        edges.delete(id);
      }
    },
    select(pid) {
      selected = pid;
      for (const rec of nodes.values()) {
        if (!rec.el.hasAttribute('data-pid')) continue;
        const on = Number(rec.el.getAttribute('data-pid')) === pid;
        rec.el.classList.toggle('selected', on);
        rec.cls = rec.el.getAttribute('class');
      }
    },
    clear() {
      for (const rec of [...nodes.values(), ...edges.values()]) clearTimeout(rec.timer);
      fading = 0;
      selected = null;
      nodes.clear();
      edges.clear();
      edgeLayer.replaceChildren();
      nodeLayer.replaceChildren();
      root.setAttribute('width', 0);
      root.setAttribute('height', 0);
    },
  };
}

// What the colours and animations mean.
export function createLegend() {
  const legend = document.createElement('div');
  legend.className = 'legend';
  for (const [cls, text] of [
    ['origin-granted', 'granted at spawn'], ['origin-received', 'received'], ['origin-returned', 'returned by a call'],
    ['st-moved', 'moved'], ['st-revoked', 'gone / revoked'],
  ]) {
    const item = document.createElement('span');
    item.className = `key ${cls}`;
    item.textContent = text;
    legend.append(item);
  }
  return legend;
}
