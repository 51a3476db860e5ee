// The process table: pid, name, state and how many capabilities each holds.

export function renderProcesses(tbody, processes) {
  const rows = processes.map((p) => {
    const tr = document.createElement('tr');
    for (const value of [p.pid, p.name, p.state, p.caps]) {
      const td = document.createElement('td');
      td.textContent = String(value);
      tr.append(td);
    }
    return tr;
  });
  tbody.replaceChildren(...rows);
}
