// The call trace tab: the last 500 capability calls, newest at the top, with
// filters by pid and by interface and a pause button. Only the rows in view
// (and a few around them) are in the DOM: at tens of thousands of calls a
// second, laying out 500 fresh rows four times a second was what the page
// spent its frames on.

import { el } from '../dom.js';
import { createTraceLog, matchesFilter } from './trace-log.js';

const LIMIT = 500;
// At most this often the table takes new calls: a person cannot read faster.
const FLUSH_EVERY_MS = 250;
// Rows are all one height (style.css fixes it; the first drawn row measures
// it), so the rows in view follow from the scroll position; this many more
// are drawn above and below.
const ROW_PX = 18;
const OVERSCAN = 10;

// `origin()`: the boot's first timestamp (ms), or undefined.
export function createTraceView({ origin }) {
  const log = createTraceLog(LIMIT);
  const filter = { pid: '', interface: '' };

  const element = el('div', 'trace');
  const controls = el('div', 'trace-controls');
  const pidSelect = el('select');
  pidSelect.setAttribute('aria-label', 'pid filter');
  pidSelect.append(new Option('all pids', ''));
  const ifaceSelect = el('select');
  ifaceSelect.setAttribute('aria-label', 'interface filter');
  ifaceSelect.append(new Option('all interfaces', ''));
  const pause = el('button', 'pause', 'pause');
  pause.type = 'button';
  pause.setAttribute('aria-pressed', 'false');
  const clear = el('button', '', 'clear');
  clear.type = 'button';
  const status = el('span', 'trace-status');
  controls.append(pidSelect, ifaceSelect, pause, clear, status);

  const scroller = el('div', 'trace-scroll');
  const table = el('table');
  const head = el('tr');
  for (const [text, title] of [['t ms', 'start, ms after the first snapshot'], ['pid'], ['call'], ['outcome'], ['µs', 'latency'], ['', 'waited: the call blocked before finishing']]) {
    const th = el('th', '', text);
    if (title) th.title = title;
    head.append(th);
  }
  table.append(el('thead'), el('tbody'));
  table.tHead.append(head);
  const tbody = table.tBodies[0];
  scroller.append(table);
  element.append(controls, scroller);

  const makeRow = (call) => {
    const tr = el('tr');
    const ok = call.outcome === 'ok';
    if (!ok) {
      tr.className = 'err';
      tr.title = call.message ? `${call.outcome}: ${call.message}` : call.outcome;
    }
    tr.dataset.pid = String(call.pid);
    tr.dataset.interface = call.interface;
    tr.dataset.method = call.method;
    tr.dataset.outcome = call.outcome;
    tr.dataset.parked = String(Boolean(call.parked));
    const o = origin();
    const t = call.startMs - (o ?? 0);
    for (const text of [t.toFixed(2), String(call.pid), `${call.interface}.${call.method}`, call.outcome,
      call.durUs.toFixed(1), call.parked ? 'waited' : '']) {
      tr.append(el('td', '', text));
    }
    return tr;
  };

  // The kept calls that pass the filter, newest first.
  let shown = [];
  let rowPx = ROW_PX;
  const spacer = (rows) => {
    const tr = el('tr', 'spacer');
    const td = el('td');
    td.colSpan = 6;
    td.style.height = `${rows * rowPx}px`;
    tr.append(td);
    return tr;
  };
  // Puts the rows in view (and OVERSCAN around them) in the table.
  const drawWindow = () => {
    const first = Math.max(0, Math.floor(scroller.scrollTop / rowPx) - OVERSCAN);
    const count = Math.ceil(scroller.clientHeight / rowPx) + 2 * OVERSCAN;
    const end = Math.min(shown.length, first + count);
    const rows = [];
    for (let i = first; i < end; i++) {
      const entry = shown[i];
      entry.row ??= makeRow(entry.call);
      rows.push(entry.row);
    }
    tbody.replaceChildren(spacer(first), ...rows, spacer(shown.length - end));
    const measured = rows[0]?.getBoundingClientRect().height;
    if (measured > 0) rowPx = measured;
  };
  const rebuild = () => {
    shown = [];
    for (let i = log.kept.length - 1; i >= 0; i--) {
      if (matchesFilter(log.kept[i].call, filter)) shown.push(log.kept[i]);
    }
    drawWindow();
  };
  scroller.addEventListener('scroll', drawWindow, { passive: true });

  // New filter options, in order, for pids and interfaces first seen.
  const fillOptions = (select, values, text, compare) => {
    if (select.options.length - 1 === values.size) return;
    const have = new Set([...select.options].slice(1).map((o) => o.value));
    const all = [...values].map(String).sort(compare);
    all.forEach((value, i) => {
      if (!have.has(value)) select.add(new Option(text(value), value), i + 1);
    });
  };

  const showStatus = () => {
    const parts = [`${log.kept.length} calls`];
    if (log.paused) parts.push(`paused: ${log.heldCount} new`);
    if (log.dropped) parts.push(`kernel dropped ${log.dropped}`);
    status.textContent = parts.join(' · ');
    element.dataset.paused = String(log.paused);
  };

  let lastFlush = -Infinity;
  let later = null;
  const view = {
    element,
    add(msg) {
      log.add(msg.calls, msg.dropped);
    },
    // Puts what arrived since the last update on screen: called once per
    // frame, it updates at most every FLUSH_EVERY_MS (and asks for a frame
    // when that time comes).
    flush() {
      const wait = lastFlush + FLUSH_EVERY_MS - performance.now();
      if (wait > 0) {
        later ??= setTimeout(() => { later = null; view.onChange(); }, wait);
        return;
      }
      lastFlush = performance.now();
      const { added, evicted } = log.take();
      if (added.length || evicted.length) {
        // Evicted calls are the oldest: the end of `shown`.
        const gone = new Set(evicted);
        while (shown.length && gone.has(shown.at(-1))) shown.pop();
        const fresh = [];
        for (let i = added.length - 1; i >= 0; i--) {
          if (matchesFilter(added[i].call, filter)) fresh.push(added[i]);
        }
        shown = fresh.concat(shown);
        drawWindow();
      }
      fillOptions(pidSelect, log.pids, (v) => `pid ${v}`, (a, b) => a - b);
      fillOptions(ifaceSelect, log.interfaces, (v) => v, (a, b) => (a < b ? -1 : a > b ? 1 : 0));
      showStatus();
    },
    // A new boot: nothing seen, not paused.
    clear() {
      log.clear();
      pause.textContent = 'pause';
      pause.setAttribute('aria-pressed', 'false');
      pidSelect.replaceChildren(new Option('all pids', ''));
      ifaceSelect.replaceChildren(new Option('all interfaces', ''));
      filter.pid = '';
      filter.interface = '';
      shown = [];
      tbody.replaceChildren();
      showStatus();
    },
    onChange: () => {}, // set by the panel: something to put on screen
  };

  pidSelect.addEventListener('change', () => { filter.pid = pidSelect.value; rebuild(); });
  ifaceSelect.addEventListener('change', () => { filter.interface = ifaceSelect.value; rebuild(); });
  pause.addEventListener('click', () => {
    if (log.paused) log.resume();
    else log.pause();
    pause.textContent = log.paused ? 'resume' : 'pause';
    pause.setAttribute('aria-pressed', String(log.paused));
    view.onChange();
  });
  clear.addEventListener('click', () => {
    log.forget();
    shown = [];
    tbody.replaceChildren();
    showStatus();
  });
  showStatus();
  return view;
}
