// The inspector snapshots of this boot, so a person can scrub back through a
// run (a demo is over in a few hundred milliseconds) and watch capabilities
// being granted, copied, moved and revoked.
//
// createHistory is pure (tested under node); createHistoryBar is the slider
// and label that drive it.

// Bounded: beyond `limit` the oldest is dropped, except the very first one
// (how the boot started). Each entry has `step`, its 1-based number in this
// boot, which stays the same when older entries are dropped.
export function createHistory(limit = 2000) {
  if (!(limit >= 2)) throw new RangeError('a history keeps at least 2 snapshots');
  let entries = []; // {step, snapshot}, steps increasing
  let total = 0;
  let follow = true;
  let selectedStep = 0; // when not following

  // Index of the first entry whose step is >= `step`.
  const lowerBound = (step) => {
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (entries[mid].step < step) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  const history = {
    get length() { return entries.length; },
    get total() { return total; }, // snapshots seen this boot, dropped ones included
    get follow() { return follow; },
    push(snapshot) {
      total += 1;
      entries.push({ step: total, snapshot });
      if (entries.length > limit) entries.splice(1, entries.length - limit);
    },
    at: (index) => entries[index],
    first: () => entries[0],
    latest: () => entries.at(-1),
    // The index shown: the newest when following, else the chosen step (or,
    // if that one was dropped, the oldest kept after it).
    index() {
      if (!entries.length) return -1;
      if (follow) return entries.length - 1;
      return Math.min(lowerBound(selectedStep), entries.length - 1);
    },
    current() {
      const i = history.index();
      return i < 0 ? undefined : entries[i];
    },
    // Chooses an entry by index; choosing the newest one does not follow.
    select(index) {
      if (!entries.length) return;
      const i = Math.max(0, Math.min(entries.length - 1, Math.trunc(index)));
      follow = false;
      selectedStep = entries[i].step;
    },
    step(delta) {
      history.select(Math.max(0, history.index()) + delta);
    },
    live() {
      follow = true;
    },
    clear() {
      entries = [];
      total = 0;
      follow = true;
      selectedStep = 0;
    },
  };
  return history;
}

// "step 12 / 40 · 153 ms": the step shown, of how many, and how long after
// `originMs` (the boot's first timestamp) it was taken.
export function historyLabel(history, originMs) {
  const entry = history.current();
  if (!entry) return 'no snapshot yet';
  const ms = Math.round(entry.snapshot.atMs - (originMs ?? entry.snapshot.atMs));
  return `step ${entry.step} / ${history.total} · ${ms} ms`;
}

// The slider, step buttons, label and "live" button. `onChange` is called
// after the user moves through the history.
export function createHistoryBar(history, { onChange, origin }) {
  const bar = document.createElement('div');
  bar.className = 'history';
  const button = (text, title, action) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = text;
    b.title = title;
    b.addEventListener('click', () => { action(); onChange(); });
    return b;
  };
  const back = button('◀', 'previous step', () => history.step(-1));
  const slider = document.createElement('input');
  slider.type = 'range';
  slider.min = '0';
  slider.step = '1';
  slider.setAttribute('aria-label', 'snapshot');
  slider.addEventListener('input', () => { history.select(Number(slider.value)); onChange(); });
  const forward = button('▶', 'next step', () => history.step(1));
  const label = document.createElement('span');
  label.className = 'history-label';
  const live = button('live', 'follow the newest snapshot', () => history.live());
  live.className = 'live';
  bar.append(back, slider, forward, label, live);

  return {
    element: bar,
    // Shows where the history is; cheap, called once per animation frame.
    update() {
      const index = history.index();
      slider.max = String(Math.max(0, history.length - 1));
      slider.value = String(Math.max(0, index));
      slider.disabled = history.length < 2;
      label.textContent = historyLabel(history, origin());
      live.setAttribute('aria-pressed', String(history.follow));
      const entry = history.current();
      bar.dataset.follow = String(history.follow);
      bar.dataset.index = String(index);
      bar.dataset.length = String(history.length);
      bar.dataset.step = entry ? String(entry.step) : '0';
      bar.dataset.seq = entry ? String(entry.snapshot.seq) : '';
    },
  };
}
