// The inspector panel: tabs "graph", "process" and "trace", with the history
// slider above the first two. It renders the kernel's 'inspector' snapshots
// and 'trace' batches, at most once per animation frame and only the visible
// tab, and tells the kernel (setInspect) what it needs published:
//   graph: the panel is visible at all (snapshots feed the history);
//   trace: the trace tab is visible (pausing is only a display matter).
//
// createInspector(root, { setInspect }) -> { snapshot(msg), trace(msg),
//   reset(), show(bool), wanted(), tab(name), snapshots(), showStep(index),
//   select(pid) }. The last four render at once (not at the next frame), so
//   a driver or a test sees their effect as soon as they return.

import { createHistory, createHistoryBar } from './history.js';
import { layoutGraph, diffGraphs } from './graph-layout.js';
import { createGraph, createLegend } from './graph.js';
import { createProcessView } from './process-view.js';
import { createTraceView } from './trace.js';

const TABS = ['graph', 'process', 'trace'];
// Following live, the graph is redrawn at most this often: its animations
// take longer than that, and at 50 processes a redraw costs the page most
// of a frame (snapshots come ten times a second while anything changes).
const LIVE_GRAPH_EVERY_MS = 250;
const HISTORY_LIMIT = 2000;

export function createInspector(root, { setInspect = () => {} } = {}) {
  let visible = !root.hidden;
  let tab = 'graph';
  let origin; // the boot's first timestamp (ms): labels are relative to it
  let frame = 0;
  let graphStep = 0; // the step the graph shows, 0 = none
  let graphLayout = null;
  let graphStale = true; // re-render even if the step is the same
  let processStep = 0;
  let announced = null;

  const history = createHistory(HISTORY_LIMIT);
  const schedule = () => {
    if (!frame) frame = requestAnimationFrame(render);
  };
  const historyBar = createHistoryBar(history, { onChange: schedule, origin: () => origin });
  const selectProcess = (pid) => {
    processView.select(pid);
    graph.select(pid);
    processStep = 0;
    schedule();
  };
  const graph = createGraph({ onSelectProcess: (pid) => { selectProcess(pid); setTab('process'); } });
  const processView = createProcessView({ onSelect: selectProcess });
  const traceView = createTraceView({ origin: () => origin });
  traceView.onChange = schedule;

  // Tabs and their panes.
  const tabList = document.createElement('div');
  tabList.className = 'tabs';
  tabList.setAttribute('role', 'tablist');
  const buttons = new Map();
  const panes = new Map();
  for (const name of TABS) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = name;
    button.id = `inspector-tab-${name}`;
    button.dataset.tab = name;
    button.setAttribute('role', 'tab');
    button.setAttribute('aria-controls', `inspector-pane-${name}`);
    button.addEventListener('click', () => setTab(name));
    tabList.append(button);
    buttons.set(name, button);
    const pane = document.createElement('div');
    pane.className = `pane pane-${name}`;
    pane.id = `inspector-pane-${name}`;
    pane.dataset.tab = name;
    pane.setAttribute('role', 'tabpanel');
    pane.setAttribute('aria-labelledby', button.id);
    panes.set(name, pane);
  }
  panes.get('graph').append(graph.element, createLegend());
  panes.get('process').append(processView.element);
  panes.get('trace').append(traceView.element);
  root.replaceChildren(tabList, historyBar.element, ...panes.values());

  const wanted = () => ({ graph: visible, trace: visible && tab === 'trace' });
  const announce = (force = false) => {
    const want = wanted();
    if (!force && announced && announced.graph === want.graph && announced.trace === want.trace) return;
    announced = want;
    setInspect(want);
  };

  function setTab(name) {
    tab = name;
    for (const [n, button] of buttons) {
      button.setAttribute('aria-selected', String(n === name));
      button.tabIndex = n === name ? 0 : -1;
      panes.get(n).hidden = n !== name;
    }
    historyBar.element.hidden = name === 'trace';
    root.dataset.tab = name;
    graphStale = true;
    processStep = 0;
    announce();
    schedule();
  }

  // The graph at `entry`, animating what changed: when moving forward (or
  // following live), everything since what was on screen; when moving back,
  // what changed at that step.
  let graphDrawnAt = -Infinity;
  let graphLater = null;
  const renderGraph = (entry) => {
    graphDrawnAt = performance.now();
    const layout = layoutGraph(entry.snapshot);
    let before;
    if (graphLayout && entry.step >= graphStep) {
      before = graphLayout;
    } else {
      const i = history.index();
      before = i > 0 ? layoutGraph(history.at(i - 1).snapshot) : null;
    }
    graph.render(layout, diffGraphs(before, layout), { hold: history.follow });
    graphLayout = layout;
    graphStep = entry.step;
    graphStale = false;
  };

  function render() {
    if (frame) cancelAnimationFrame(frame);
    frame = 0;
    if (!visible) return;
    const entry = history.current();
    if (tab !== 'trace') historyBar.update();
    if (tab === 'graph' && entry && (entry.step !== graphStep || graphStale)) {
      const wait = graphDrawnAt + LIVE_GRAPH_EVERY_MS - performance.now();
      if (history.follow && !graphStale && wait > 0) {
        graphLater ??= setTimeout(() => { graphLater = null; schedule(); }, wait);
      } else {
        renderGraph(entry);
      }
    }
    if (tab === 'process' && (entry?.step ?? -1) !== processStep) {
      processView.render(entry?.snapshot ?? null);
      processStep = entry?.step ?? -1;
    }
    if (tab === 'trace') traceView.flush();
  }

  root.hidden = !visible;
  setTab('graph'); // and tells the kernel what the panel wants

  return {
    // An 'inspector' view model from the kernel.
    snapshot(msg) {
      if (origin === undefined) origin = msg.atMs;
      history.push(msg);
      schedule();
    },
    // A 'trace' batch from the kernel.
    trace(msg) {
      if (origin === undefined && msg.calls.length) origin = msg.calls[0].startMs;
      traceView.add(msg);
      schedule();
    },
    // A new boot: forget everything, and say again what the panel wants (the
    // new kernel starts knowing nothing).
    reset() {
      history.clear();
      graph.clear();
      processView.clear();
      traceView.clear();
      origin = undefined;
      graphStep = 0;
      graphLayout = null;
      graphStale = true;
      processStep = 0;
      announce(true);
      schedule();
    },
    show(on) {
      visible = Boolean(on);
      root.hidden = !visible;
      graphStale = true;
      processStep = 0;
      announce();
      schedule();
    },
    // What the panel currently wants published: {graph, trace}.
    wanted,
    // Opens a tab: 'graph', 'process' or 'trace'.
    tab(name) {
      if (!TABS.includes(name)) throw new RangeError(`no inspector tab ${JSON.stringify(name)}`);
      setTab(name);
      render();
    },
    // The snapshots the history keeps, oldest first: index i is step i of
    // the slider (the first of the boot, then the newest ones kept).
    snapshots: () => Array.from({ length: history.length }, (_, i) => history.at(i).snapshot),
    // Shows the snapshot at that index, as moving the slider there does.
    showStep(index) {
      history.select(index);
      render();
    },
    // Shows that process in the process tab (and marks it on the graph).
    select(pid) {
      selectProcess(pid);
      render();
    },
  };
}
