// `make bench`, net (target/bench/net.json): requests per second and the
// median latency of a 1 KiB response (kib.txt) from the same Rust server
// (demos/wasi/static-server), with 1 and with 16 clients at once, three ways
// in one run:
// - preview: from the page, through the service worker and the kernel, to
//   the webserver demo's static-server (a capOS process);
// - tcplisten: real TCP from this process to `capos run --tcplisten`;
// - native: the same server built for the host (the reference: wasmtime's
//   Python API preopens no sockets, so it cannot run this server).
// Each request is its own connection (the server answers `Connection: close`).
import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

const REQUESTS = 300;
const CLIENTS = 16;
const PATH = '/kib.txt';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x, digits = 2) => Number(x.toFixed(digits));

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// One GET over its own TCP connection; resolves with its latency in ms.
function tcpGet(port) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`GET ${PATH} HTTP/1.1\r\nHost: bench\r\n\r\n`));
    let bytes = 0;
    socket.on('data', (d) => { bytes += d.length; });
    socket.on('close', () => (bytes > 1024 ? resolve(performance.now() - started) : reject(new Error(`short answer: ${bytes} bytes`))));
    socket.on('error', reject);
  });
}

// `clients` loops sharing `total` requests; {rps, median_ms}.
async function load(get, clients, total) {
  const latencies = [];
  let left = total;
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (left > 0) {
      left -= 1;
      latencies.push(await get());
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  return { rps: round(total / seconds, 1), median_ms: round(median(latencies)) };
}

// Starts `command` and waits until its stdout says `ready`.
function start(command, args, env, ready) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => { out += d; if (ready.test(out)) resolve(child); });
    child.on('exit', (code) => reject(new Error(`${command} exited ${code} before it was ready: ${out}`)));
  });
}

async function overTcp(port) {
  await load(() => tcpGet(port), 4, 40); // warm up
  return { c1: await load(() => tcpGet(port), 1, REQUESTS), c16: await load(() => tcpGet(port), CLIENTS, REQUESTS) };
}

async function preview(context, siteUrl) {
  const page = await context.newPage();
  await page.goto(`${siteUrl}?manifest=webserver&inspector=off`);
  // Until the server answers (waitForFunction would take the promise an async check returns for a yes).
  const deadline = Date.now() + 120_000;
  while (await page.evaluate(async (p) => (await fetch(`/preview/8080${p}`).catch(() => null))?.status, PATH) !== 200) {
    if (Date.now() > deadline) throw new Error('net bench: the webserver demo never answered on port 8080');
    await new Promise((r) => { setTimeout(r, 250); });
  }
  const run = (clients) => page.evaluate(async ([path, n, c]) => {
    const latencies = [];
    let left = n;
    const started = performance.now();
    await Promise.all(Array.from({ length: c }, async () => {
      while (left > 0) {
        left -= 1;
        const t = performance.now();
        const r = await fetch(`/preview/8080${path}`);
        const body = new Uint8Array(await r.arrayBuffer());
        if (body.length !== 1024) throw new Error(`short answer: ${r.status}, ${body.length} bytes: ${new TextDecoder().decode(body).slice(0, 400)}`);
        latencies.push(performance.now() - t);
      }
    }));
    latencies.sort((a, b) => a - b);
    return { rps: n / ((performance.now() - started) / 1000), median_ms: latencies[Math.floor(latencies.length / 2)] };
  }, [PATH, REQUESTS, clients]);
  await run(4);
  const figures = { c1: await run(1), c16: await run(CLIENTS) };
  await page.close();
  for (const f of Object.values(figures)) { f.rps = round(f.rps, 1); f.median_ms = round(f.median_ms); }
  return figures;
}

export async function netBench(context, siteUrl, { root, capos, nativeServer }) {
  const site = join(root, 'demos', 'webserver', 'site');
  const result = { requests: REQUESTS, clients: CLIENTS, response_bytes: 1024 };
  result.preview = await preview(context, siteUrl);

  let port = await freePort();
  const run = await start(capos, ['run', '--timeout', '600', '--tcplisten', `127.0.0.1:${port}`, '--dir', `${site}::/site`,
    join(root, 'build', 'wasi', 'static-server.wasm'), '/site'], {}, /serving \/site/);
  try {
    result.tcplisten = await overTcp(port);
  } finally {
    run.kill('SIGTERM');
  }

  port = await freePort();
  const native = await start(nativeServer, [site], { STATIC_SERVER_LISTEN: `127.0.0.1:${port}` }, /serving/);
  try {
    result.native = await overTcp(port);
  } finally {
    native.kill('SIGTERM');
  }
  result.ratios = {
    tcplisten_over_native_rps_c1: round(result.tcplisten.c1.rps / result.native.c1.rps, 3),
    tcplisten_over_native_rps_c16: round(result.tcplisten.c16.rps / result.native.c16.rps, 3),
    preview_over_native_rps_c1: round(result.preview.c1.rps / result.native.c1.rps, 3),
    preview_over_native_rps_c16: round(result.preview.c16.rps / result.native.c16.rps, 3),
  };
  result.notes = {
    preview: 'fetch() from the page: service worker -> page -> kernel Worker -> static-server (webserver demo, port 8080) and back',
    tcplisten: 'TCP from the bench to `capos run --tcplisten` (the warm daemon\'s browser): CLI -> driver -> page -> kernel -> static-server',
    native: 'the same static-server source built for the host (STATIC_SERVER_LISTEN), poll(2) instead of poll_oneoff',
  };
  return result;
}

export function printNetTable(f) {
  const pad = (s, n) => String(s).padEnd(n);
  console.log(`\nnet: a 1 KiB response from the same Rust server, one connection per request (target/bench/net.json)`);
  console.log(`${pad('path', 12)}${pad('req/s c=1', 12)}${pad('median ms', 12)}${pad(`req/s c=${f.clients}`, 13)}${pad('median ms', 12)}req/s vs native (1, ${f.clients})`);
  for (const name of ['preview', 'tcplisten', 'native']) {
    const p = f[name];
    const ratio = name === 'native' ? '1, 1' : `${f.ratios[`${name}_over_native_rps_c1`]}, ${f.ratios[`${name}_over_native_rps_c16`]}`;
    console.log(`${pad(name, 12)}${pad(p.c1.rps, 12)}${pad(p.c1.median_ms, 12)}${pad(p.c16.rps, 13)}${pad(p.c16.median_ms, 12)}${ratio}`);
  }
  console.log('written: target/bench/net.json');
}
