// The process table: pid, name, state and how many capabilities each holds.
// The kernel publishes the live processes (running, or blocked in cap_enter
// and on what); the table also keeps the ones that ended, with how they
// ended, so a person can see the whole run: the newest MAX_ENDED_SHOWN of
// them, and a count of the rest (a soak spawns thousands).
//
// Rows are updated in place, one at a time: a system that spawns and reaps
// processes all the time must not cost the page a whole table per event.

const MAX_ENDED_SHOWN = 200;

export function createProcessList(tbody) {
  const rows = new Map(); // pid -> { view, tr }
  const ended = []; // pids of ended processes still shown, oldest first
  let hidden = 0; // ended processes no longer shown
  const summary = document.createElement('tr');
  summary.className = 'ended summary';
  const summaryCell = document.createElement('td');
  summaryCell.colSpan = 4;
  summary.append(summaryCell);

  const cellsOf = (p) => {
    const on = p.blockedOn?.length ? ` on ${p.blockedOn.join(', ')}` : '';
    const state = p.state === 'blocked' ? `blocked${on}` : p.state;
    return [String(p.pid), p.name, state, String(p.caps)];
  };

  const paint = (tr, p) => {
    const live = p.state === 'running' || p.state === 'blocked';
    tr.className = live ? (p.state === 'blocked' ? 'blocked' : '') : 'ended';
    tr.dataset.state = p.state;
    cellsOf(p).forEach((text, i) => {
      if (tr.cells[i].textContent !== text) tr.cells[i].textContent = text;
    });
  };

  // Shows `p`, in pid order (a new pid is nearly always the largest).
  const put = (p) => {
    const known = rows.get(p.pid);
    if (known) {
      known.view = p;
      paint(known.tr, p);
      return;
    }
    const tr = document.createElement('tr');
    tr.dataset.pid = String(p.pid);
    for (let i = 0; i < 4; i++) tr.append(document.createElement('td'));
    paint(tr, p);
    rows.set(p.pid, { view: p, tr });
    let next = null;
    for (const [pid, row] of rows) if (pid > p.pid && (next === null || pid < Number(next.dataset.pid))) next = row.tr;
    tbody.insertBefore(tr, next ?? (summary.isConnected ? summary : null));
  };

  const forgetOldestEnded = () => {
    while (ended.length > MAX_ENDED_SHOWN) {
      const pid = ended.shift();
      rows.get(pid)?.tr.remove();
      rows.delete(pid);
      hidden++;
    }
    if (hidden > 0) {
      summaryCell.textContent = `… and ${hidden} earlier processes that ended`;
      if (!summary.isConnected) tbody.append(summary);
    }
  };

  return {
    clear() {
      rows.clear();
      ended.length = 0;
      hidden = 0;
      tbody.replaceChildren();
    },
    live(processes) {
      for (const p of processes) put({ ...p });
    },
    // `how`: exited, killed, panicked, trapped or failed.
    ended(pid, name, how, code) {
      put({ pid, name, state: `${how} ${code}`, caps: 0 });
      if (!ended.includes(pid)) ended.push(pid);
      forgetOldestEnded();
    },
    // Everything still shown as running was torn down with the kernel.
    kernelDied() {
      for (const row of rows.values()) {
        const p = row.view;
        if (p.state === 'running' || p.state === 'blocked') {
          row.view = { ...p, state: 'killed', blockedOn: [], caps: 0 };
          paint(row.tr, row.view);
        }
      }
    },
  };
}
