// The process table: pid, name, state and how many capabilities each holds.
// The kernel publishes the live processes (running, or blocked in cap_enter
// and on what); the table also keeps the ones that ended, with how they
// ended, so a person can see the whole run.

export function createProcessList(tbody) {
  const rows = new Map(); // pid -> {pid, name, state, caps}

  const render = () => {
    const sorted = [...rows.values()].sort((a, b) => a.pid - b.pid);
    tbody.replaceChildren(...sorted.map((p) => {
      const tr = document.createElement('tr');
      tr.dataset.pid = String(p.pid);
      const live = p.state === 'running' || p.state === 'blocked';
      if (!live) tr.className = 'ended';
      else if (p.state === 'blocked') tr.className = 'blocked';
      tr.dataset.state = p.state;
      const on = p.blockedOn?.length ? ` on ${p.blockedOn.join(', ')}` : '';
      const state = p.state === 'blocked' ? `blocked${on}` : p.state;
      for (const value of [p.pid, p.name, state, p.caps]) {
        const td = document.createElement('td');
        td.textContent = String(value);
        tr.append(td);
      }
      return tr;
    }));
  };

  return {
    clear() {
      rows.clear();
      render();
    },
    live(processes) {
      for (const p of processes) rows.set(p.pid, { ...p });
      render();
    },
    // `how`: exited, killed, panicked, trapped or failed.
    ended(pid, name, how, code) {
      rows.set(pid, { pid, name, state: `${how} ${code}`, caps: 0 });
      render();
    },
    // Everything still shown as running was torn down with the kernel.
    kernelDied() {
      for (const p of rows.values()) {
        if (p.state === 'running' || p.state === 'blocked') Object.assign(p, { state: 'killed', blockedOn: [], caps: 0 });
      }
      render();
    },
  };
}
