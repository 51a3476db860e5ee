// `make profile`: runs one manifest (default: bench) in headless Chromium with
// the V8 sampling profiler on every Worker (the kernel and each process), and
// prints where each spent its time: the functions with the most self time.
// Usage: node capos-cli/driver/profile.mjs [manifest] [top-N]  (CAPOS_BIN: the capos binary;
// PROFILE_INTERVAL_US: the sampling interval, 100 us unless given: sampling this often slows
// the ring traffic it samples, so compare profiles taken at one interval).
// Needs a release build with names (`wasm-bindgen --keep-debug` is not
// required: wasm function names come from the name section).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.mjs';
import { serveSite } from './serve.mjs';
import { exposeReport } from './report.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CAPOS = process.env.CAPOS_BIN || join(ROOT, 'target', 'release', 'capos');
const MANIFEST = process.argv[2] || 'bench';
const TOP = Number(process.argv[3] || 25);
// Profiles stop when the terminal shows this (processes must still be alive
// to be asked for their profile): for `bench`, the batched-calls figure.
const STOP_AT = new RegExp(process.env.PROFILE_STOP_AT || (MANIFEST === 'bench' ? 'batched_calls_per_s' : '$^'));

const serve = () => serveSite(CAPOS);

// Worker targets, reached through Target.sendMessageToTarget (non-flat
// sessions): each auto-attaches its own child Workers in turn.
class Targets {
  constructor(root) {
    this.root = root;
    this.nextId = 1;
    this.pending = new Map();
    this.workers = new Map(); // sessionId -> { title, path }
    root.on('Target.attachedToTarget', (e) => this.attached([], e));
    root.on('Target.receivedMessageFromTarget', (e) => this.received([e.sessionId], e.message));
  }

  // `path`: the chain of session ids from the page down to the target.
  send(path, method, params = {}) {
    const id = this.nextId++;
    let message = JSON.stringify({ id, method, params });
    for (let i = path.length - 1; i >= 1; i--) {
      message = JSON.stringify({ id: this.nextId++, method: 'Target.sendMessageToTarget', params: { sessionId: path[i], message } });
    }
    const reply = new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.root.send('Target.sendMessageToTarget', { sessionId: path[0], message }).catch(() => {});
    return reply;
  }

  received(path, raw) {
    const msg = JSON.parse(raw);
    if (msg.method === 'Target.receivedMessageFromTarget') return this.received([...path, msg.params.sessionId], msg.params.message);
    if (msg.method === 'Target.attachedToTarget') return this.attached(path, msg.params);
    const waiter = msg.id !== undefined && this.pending.get(msg.id);
    if (waiter) {
      this.pending.delete(msg.id);
      if (msg.error) waiter.reject(new Error(msg.error.message));
      else waiter.resolve(msg.result);
    }
  }

  async attached(parentPath, { sessionId, targetInfo }) {
    const path = [...parentPath, sessionId];
    this.workers.set(sessionId, { title: targetInfo.title || targetInfo.url, path });
    await this.send(path, 'Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
    await this.send(path, 'Profiler.enable');
    await this.send(path, 'Profiler.setSamplingInterval', { interval: Number(process.env.PROFILE_INTERVAL_US || 100) });
    await this.send(path, 'Profiler.start');
  }
}

function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map();
  const deltas = profile.timeDeltas;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const f = node.callFrame;
    const name = `${f.functionName || '(anonymous)'} ${f.url ? f.url.split('/').pop() : ''}`.trim();
    counts.set(name, (counts.get(name) || 0) + (deltas[i + 1] ?? 0));
  });
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return { total, rows: [...counts.entries()].sort((a, b) => b[1] - a[1]) };
}

async function main() {
  const server = await serve();
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    const session = await page.context().newCDPSession(page);
    const targets = new Targets(session);
    await session.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
    let halted;
    const done = new Promise((resolve) => { halted = resolve; });
    await exposeReport(page, (event) => {
      if (['halted', 'panic', 'bootError', 'fatal'].includes(event.kind)) halted(event);
      if (event.kind === 'console' && STOP_AT.test(event.text)) halted({ kind: 'stop', reason: event.text.trim() });
    });
    await page.goto(`${server.url}?manifest=${encodeURIComponent(MANIFEST)}`);
    const end = await done;
    console.log(`${MANIFEST}: ${end.kind} ${end.reason ?? end.message ?? ''}`);
    for (const { title, path } of targets.workers.values()) {
      let result;
      try {
        result = await targets.send(path, 'Profiler.stop');
      } catch {
        continue; // The Worker ended before it could be asked.
      }
      const { total, rows } = selfTimes(result.profile);
      console.log(`\n== ${title}: ${(total / 1000).toFixed(1)} ms sampled`);
      for (const [name, us] of rows.slice(0, TOP)) {
        console.log(`${(100 * us / total).toFixed(1).padStart(6)}%  ${(us / 1000).toFixed(1).padStart(9)} ms  ${name}`);
      }
    }
  } finally {
    await browser.close();
    server.stop();
  }
}

main().catch((err) => { console.error(`profile: ${err.stack || err.message}`); process.exitCode = 1; });
