// Baselines for `make bench`: round trips between two Workers, measured in
// groups (cross-origin-isolated timers have 5 us resolution).
import { RING_SIZE } from '/generated/abi.js';

const GROUP = 100;
const SAMPLES = 200;
const out = document.getElementById('out');
const report = (event) => globalThis.__caposReport?.(event);

function pair() {
  const url = new URL('./pingpong-worker.js', import.meta.url);
  return [new Worker(url, { type: 'module', name: 'ping' }), new Worker(url, { type: 'module', name: 'pong' })];
}

function run(kind) {
  return new Promise((resolve, reject) => {
    const [ping, pong] = pair();
    const channel = new MessageChannel();
    const sab = new SharedArrayBuffer(8);
    ping.onmessage = ({ data }) => { ping.terminate(); pong.terminate(); resolve(data); };
    ping.onerror = pong.onerror = (e) => reject(new Error(e.message));
    pong.postMessage({ role: 'pong', kind, sab, port: channel.port2, group: GROUP, samples: SAMPLES }, [channel.port2]);
    ping.postMessage({ role: 'ping', kind, sab, port: channel.port1, group: GROUP, samples: SAMPLES }, [channel.port1]);
  });
}

// The raw ring: the same batches of null calls as the bench manifest's
// batched_calls_per_s, over the ring's layout in plain JS (raw-ring-worker.js).
function rawRing() {
  return new Promise((resolve, reject) => {
    const url = new URL('./raw-ring-worker.js', import.meta.url);
    const kernel = new Worker(url, { type: 'module', name: 'raw ring kernel' });
    const process = new Worker(url, { type: 'module', name: 'raw ring process' });
    const sab = new SharedArrayBuffer(RING_SIZE);
    const job = { sab, batches: [1, 16, 64, 256], calls: 262144 };
    process.onmessage = ({ data }) => { kernel.terminate(); process.terminate(); resolve(data); };
    kernel.onerror = process.onerror = (e) => reject(new Error(e.message));
    kernel.postMessage({ role: 'kernel', ...job });
    process.postMessage({ role: 'process', ...job });
  });
}

function summary(samples) {
  const s = [...samples].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], p99: s[Math.ceil(s.length * 0.99) - 1] };
}

async function main() {
  report({ kind: 'started' }); // The driver reloads a page that never says anything.
  if (!crossOriginIsolated) {
    report({ kind: 'fatal', message: 'bench page is not cross-origin isolated' });
    return;
  }
  const results = {};
  for (const [key, kind] of [['raw_sab_rtt_us', 'atomics'], ['postmessage_rtt_us', 'postmessage']]) {
    results[key] = summary(await run(kind));
    report({ kind: 'bench', key, value: results[key] });
  }
  results.raw_ring_calls_per_s = await rawRing();
  report({ kind: 'bench', key: 'raw_ring_calls_per_s', value: results.raw_ring_calls_per_s });
  out.textContent = JSON.stringify(results, null, 2);
  report({ kind: 'benchDone' });
}

main().catch((err) => report({ kind: 'fatal', message: String(err) }));
