// The guided tour (?tour=1): steps through the demos, each with what to look
// at and what to try. A step boots its demo and opens the inspector tab that
// shows its point; docs/tour.md is the same tour on paper.

import { el } from './dom.js';

export const TOUR = [
  {
    title: 'One process, one memory',
    demo: 'hello',
    tab: 'graph',
    look: 'init is one process: one Web Worker with its own linear memory, and one CapTable in the kernel. ' +
      'It runs for a moment and exits; drag the history slider back to see everything it could reach while ' +
      'it ran: the single Console its manifest granted.',
    try: 'Open DevTools: Sources lists "capOS kernel" and "pid 1: init" as separate threads, and the ' +
      'Performance panel shows each spawn ("spawn pid 1: init") on the kernel\'s track.',
  },
  {
    title: 'A forged id is refused',
    demo: 'denied',
    tab: 'trace',
    look: 'The "denied" child has no Console. It tries the Console id the leaker published and a few guesses: ' +
      'every attempt is in the trace as UnknownCap. An id names an entry in the caller\'s own table, so an ' +
      'id seen elsewhere names nothing.',
    try: 'Filter the trace by the denied process: all it did was refused, and the kernel went on serving.',
  },
  {
    title: 'Copy or move',
    demo: 'ipc',
    tab: 'graph',
    look: 'Scrub the history back to the spawns. init grants each child a copy of its Console: init keeps its ' +
      'edge and the child gets one to the same object. The endpoint capabilities it moves leave init: the ' +
      'edge disappears from init as it appears at the child.',
    try: 'Step forward one snapshot at a time and watch edges marked "moved from pid 1".',
  },
  {
    title: 'Badges tell clients apart',
    demo: 'ipc',
    tab: 'graph',
    look: 'Both clients hold call-only copies of one Endpoint: their edges join the server at the same object, ' +
      'marked badge 1 and badge 2. Every call carries its capability\'s badge to the server, which is how it ' +
      'knows who called (see the terminal).',
    try: 'Click a client to see its capabilities, with their badges and where they came from.',
  },
  {
    title: 'Attenuation',
    demo: 'ipc',
    tab: 'graph',
    look: 'Each client makes Console.withPrefix: a new Console that can only write lines starting with its ' +
      'prefix, and sends it to the server in its call. The server holds it "received from pid N": it can ' +
      'write to the client\'s terminal, but never without the prefix.',
    try: 'Find the snapshot where the server holds a Console with a prefix note, then the one where it released it.',
  },
  {
    title: 'Killing revokes',
    demo: 'revoke',
    tab: 'trace',
    look: 'The server takes the client\'s call and spins without answering; init kills it. Everything the ' +
      'server held is revoked with it, and the client, blocked in Endpoint.call, is answered PeerGone instead ' +
      'of hanging: the trace shows that call and its outcome.',
    try: 'Watch the process list while it runs: the server blocked on Endpoint.receive, then the client ' +
      'blocked on Endpoint.call, then the server killed.',
  },
];

// Renders the tour into `root`; `start(step)` boots that step's demo and opens
// its tab. Returns { go(index) }.
export function createTour(root, { start }) {
  let index = 0;
  const button = (text, onClick, disabled = false) => {
    const b = el('button', '', text);
    b.type = 'button';
    b.disabled = disabled;
    b.addEventListener('click', onClick);
    return b;
  };
  const paragraph = (label, text) => {
    const p = el('p');
    p.append(el('strong', '', label), text);
    return p;
  };
  const render = () => {
    const step = TOUR[index];
    const buttons = el('div', 'tour-buttons');
    buttons.append(
      button('back', () => go(index - 1), index === 0),
      button(`boot ${step.demo} again`, () => start(step)),
      button('next', () => go(index + 1), index === TOUR.length - 1),
    );
    root.dataset.step = String(index + 1);
    root.replaceChildren(
      el('h2', '', `tour ${index + 1}/${TOUR.length}: ${step.title}`),
      paragraph('Look: ', step.look),
      paragraph('Try: ', step.try),
      buttons,
    );
  };
  function go(i) {
    index = Math.max(0, Math.min(TOUR.length - 1, i));
    render();
    start(TOUR[index]);
  }
  root.hidden = false;
  return { go };
}
