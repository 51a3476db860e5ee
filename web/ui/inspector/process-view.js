// The process tab: one process at the snapshot shown (the history slider
// applies here too): its state, what it is blocked on, how it ended, its ring
// counters, and its capabilities in table order.

import { el } from '../dom.js';
import { capLabel, processSublabel } from './graph-layout.js';

const COUNTERS = [
  ['sqes', 'SQEs', 'submission entries the process posted'],
  ['cqes', 'CQEs', 'completions the kernel posted'],
  ['inFlight', 'in flight', 'calls submitted, not yet completed'],
  ['doorbellWaits', 'doorbell waits', 'times the process slept waiting for a completion'],
  ['cqStalls', 'CQ stalls', 'times the completion queue was full'],
];

// `onSelect(pid)`: the user chose another process here.
export function createProcessView({ onSelect }) {
  const element = el('div', 'process-view');
  const picker = el('select');
  picker.setAttribute('aria-label', 'process');
  const pickerRow = el('div', 'process-picker');
  pickerRow.append(picker);
  const summary = el('dl', 'process-summary');
  const counters = el('table', 'counters');
  const caps = el('table', 'caps');
  const capsHead = el('tr');
  for (const text of ['capability', 'interface', 'badge', 'object']) capsHead.append(el('th', '', text));
  caps.append(el('thead'), el('tbody'));
  caps.tHead.append(capsHead);
  const empty = el('p', 'hint');
  element.append(pickerRow, empty, summary, counters, caps);

  let selected = null;
  let pickerKey = '';
  let lastSnapshot = null;
  picker.addEventListener('change', () => onSelect(Number(picker.value)));

  const fillPicker = (processes) => {
    const key = processes.map((p) => `${p.pid}\u0000${p.name}`).join('\u0001');
    if (key !== pickerKey) {
      pickerKey = key;
      picker.replaceChildren(...processes.map((p) => new Option(`pid ${p.pid} ${p.name}`, String(p.pid))));
    }
    picker.value = selected === null ? '' : String(selected);
  };

  const view = {
    element,
    get selected() { return selected; },
    select(pid) {
      selected = pid;
      if (lastSnapshot) view.render(lastSnapshot);
    },
    render(snapshot) {
      lastSnapshot = snapshot;
      const processes = [...(snapshot?.processes ?? [])].sort((a, b) => a.pid - b.pid);
      if (selected === null && processes.length) selected = processes[0].pid;
      fillPicker(processes);
      const p = processes.find((q) => q.pid === selected);
      element.dataset.pid = selected === null ? '' : String(selected);
      element.dataset.state = p ? p.state : '';
      summary.hidden = counters.hidden = caps.hidden = !p;
      empty.hidden = Boolean(p);
      if (!p) {
        empty.textContent = selected === null ? 'no process yet' : `pid ${selected} does not exist at this step`;
        return;
      }

      const rows = [['state', p.state]];
      if (p.state === 'running' || p.state === 'blocked') rows.push(['now', processSublabel(p)]);
      if (p.blockedOn?.length) rows.push(['parked calls', p.blockedOn.join(', ')]);
      if (p.exitCode !== null && p.exitCode !== undefined) rows.push(['exit code', String(p.exitCode)]);
      if (p.reason) rows.push(['reason', p.reason]);
      summary.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', '', k), el('dd', `v-${k.replace(/\W/g, '-')}`, v)]));
      summary.className = `process-summary state-${p.state}`;

      const head = el('tr');
      const values = el('tr');
      for (const [key, text, title] of COUNTERS) {
        const th = el('th', '', text);
        th.title = title;
        head.append(th);
        const td = el('td', '', String(p.counters?.[key] ?? 0));
        td.dataset.counter = key;
        values.append(td);
      }
      counters.replaceChildren(head, values);

      const notes = new Map((snapshot.objects ?? []).map((o) => [o.object, o.note]));
      const capRows = (p.caps ?? []).map((cap, i) => {
        const tr = el('tr', `origin-${cap.origin}`);
        Object.assign(tr.dataset, {
          capRow: String(i),
          pid: String(p.pid), object: String(cap.object), badge: String(cap.badge), interface: cap.interface,
          origin: cap.origin, fromPid: String(cap.fromPid ?? 0), name: cap.name ?? '', via: cap.via ?? '',
        });
        tr.title = cap.origin === 'received' ? `received from pid ${cap.fromPid}`
          : cap.origin === 'returned' ? `returned${cap.via ? ` by ${cap.via}` : ''}` : 'granted at spawn';
        const object = el('td', '', `#${cap.object}`);
        const note = notes.get(cap.object);
        if (note) object.title = note;
        tr.append(el('td', '', capLabel(cap)), el('td', '', cap.interface), el('td', '', String(cap.badge)), object);
        return tr;
      });
      if (!capRows.length) {
        const tr = el('tr', 'none');
        const td = el('td', 'hint', 'no capabilities');
        td.colSpan = 4;
        tr.append(td);
        capRows.push(tr);
      }
      caps.tBodies[0].replaceChildren(...capRows);
    },
    clear() {
      selected = null;
      lastSnapshot = null;
      pickerKey = '';
      picker.replaceChildren();
      view.render(null);
    },
  };
  return view;
}
