// Baselines for `make bench`: round trips between two Workers, measured in
// groups (cross-origin-isolated timers have 5 us resolution).
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

function summary(samples) {
  const s = [...samples].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], p99: s[Math.ceil(s.length * 0.99) - 1] };
}

async function main() {
  if (!crossOriginIsolated) {
    report({ kind: 'fatal', message: 'bench page is not cross-origin isolated' });
    return;
  }
  const results = {};
  for (const [key, kind] of [['raw_sab_rtt_us', 'atomics'], ['postmessage_rtt_us', 'postmessage']]) {
    results[key] = summary(await run(kind));
    report({ kind: 'bench', key, value: results[key] });
  }
  out.textContent = JSON.stringify(results, null, 2);
  report({ kind: 'benchDone' });
}

main().catch((err) => report({ kind: 'fatal', message: String(err) }));
