// `make bench`, files (target/bench/files.json): the persistent /home (the
// browser's OPFS) next to the in-memory /data in the same page and run:
// 100,000 writes of 64 bytes then fsync, and 64 MiB written, fsynced and
// read back (demos/bench-compute, run from the page); and a folder of 1,000
// files (50 MiB) uploaded through the file browser's directory input.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exposeReport } from './report.mjs';

const RUNS = 3;
const UPLOAD_FILES = 1000;
const UPLOAD_BYTES = 50 << 20;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x, digits = 3) => Number(x.toFixed(digits));

// A page with /home on OPFS, its file browser shown; `events` is what it reports.
async function openPage(context, siteUrl) {
  const page = await context.newPage();
  const events = [];
  await exposeReport(page, (event) => { events.push(event); });
  // No directory picker: the upload goes through <input webkitdirectory>,
  // which a driver can fill.
  await page.addInitScript(() => { delete globalThis.showDirectoryPicker; });
  await page.goto(`${siteUrl}?manifest=hello&inspector=off&files=1&store=opfs`);
  await waitFor(events, 0, (e) => e.kind === 'halted');
  return { page, events };
}

async function waitFor(events, from, match, timeoutMs = 300_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = events.slice(from).find(match);
    if (found) return found;
    const failed = events.slice(from).find((e) => ['bootError', 'panic', 'fatal'].includes(e.kind));
    if (failed || Date.now() > deadline) throw new Error(`files bench: ${JSON.stringify(failed ?? 'timed out')}`);
    await new Promise((r) => { setTimeout(r, 20); });
  }
}

// One run of bench-compute with `args`; the figures it prints, in seconds.
async function runProgram(page, events, args) {
  const from = events.length;
  await page.evaluate(async (a) => {
    const bytes = await (await fetch('/bench-data/bench-compute.wasm')).arrayBuffer();
    globalThis.capos.runProgram('bench-compute.wasm', bytes, a);
  }, args);
  const halted = await waitFor(events, from, (e) => e.kind === 'halted');
  const text = events.slice(from).filter((e) => e.kind === 'console').map((e) => e.text).join('');
  if (halted.code !== 0) throw new Error(`bench-compute ${args.join(' ')}: exit ${halted.code}: ${text}`);
  return Object.fromEntries([...text.matchAll(/(\w+)_ns=(\d+)/g)].map((m) => [m[1], Number(m[2]) / 1e9]));
}

// Seconds from choosing a folder of UPLOAD_FILES files to the browser saying
// they are all in /home (the kernel holds them; their commit is under way).
async function upload(page, dir) {
  const chooser = page.waitForEvent('filechooser');
  const started = await page.evaluate(() => {
    const t = performance.now();
    document.getElementById('files-upload-folder').click();
    return t;
  });
  await (await chooser).setFiles(dir);
  const handle = await page.waitForFunction((n) => {
    const m = document.querySelector('#files .files-messages')?.innerText.match(/copied (\d+) of (\d+) files/);
    return m && Number(m[2]) === n ? { copied: Number(m[1]), at: performance.now() } : null;
  }, UPLOAD_FILES, { timeout: 600_000, polling: 20 });
  const { copied, at } = await handle.jsonValue();
  if (copied !== UPLOAD_FILES) throw new Error(`upload: copied ${copied} of ${UPLOAD_FILES}`);
  return (at - started) / 1000;
}

export async function filesBench(context, siteUrl) {
  const { page, events } = await openPage(context, siteUrl);
  const samples = { small: { memory: [], persistent: [] }, write: { memory: [], persistent: [] }, read: { memory: [], persistent: [] } };
  // Interleaved, so drift in the machine's speed falls on both.
  for (let i = 0; i < RUNS; i++) {
    for (const [backend, dir] of [['memory', '/data'], ['persistent', '/home']]) {
      samples.small[backend].push((await runProgram(page, events, ['--small-writes', dir, '--sync'])).small_writes);
      const seq = await runProgram(page, events, ['--sequential', dir]);
      samples.write[backend].push(seq.seq_write);
      samples.read[backend].push(seq.seq_read);
    }
  }
  const folder = join(mkdtempSync(join(tmpdir(), 'capos-bench-upload-')), 'upload-bench');
  const size = Math.floor(UPLOAD_BYTES / UPLOAD_FILES);
  for (let i = 0; i < UPLOAD_FILES; i++) {
    const sub = join(folder, `d${i % 10}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `f${i}.bin`), Buffer.alloc(size, i % 251));
  }
  const uploadS = await upload(page, folder);
  rmSync(join(folder, '..'), { recursive: true, force: true });
  await page.close();

  const pair = (s) => ({ memory: round(median(s.memory)), persistent: round(median(s.persistent)) });
  const result = {
    runs: RUNS,
    wasi_small_writes_s: pair(samples.small),
    seq_64mib_write_s: pair(samples.write),
    seq_64mib_read_s: pair(samples.read),
    upload_1000_files_50mib: { seconds: round(uploadS), files_per_s: round(UPLOAD_FILES / uploadS, 1) },
    notes: {
      backends: 'memory: /data, the kernel\'s in-memory tree; persistent: /home, the same tree committed to the browser\'s OPFS',
      small_writes: '100,000 x 64-byte writes then fsync (bench-compute --small-writes DIR --sync), run from the page',
      sequential: '64 MiB in 1 MiB writes then fsync; then read back in 1 MiB reads and checked (bench-compute --sequential DIR)',
      upload: 'from choosing a folder (<input webkitdirectory>) to the file browser saying all are copied into /home; the commit to OPFS follows',
    },
  };
  result.ratios = {
    small_writes_persistent_over_memory: round(result.wasi_small_writes_s.persistent / result.wasi_small_writes_s.memory),
    seq_write_persistent_over_memory: round(result.seq_64mib_write_s.persistent / result.seq_64mib_write_s.memory),
    seq_read_persistent_over_memory: round(result.seq_64mib_read_s.persistent / result.seq_64mib_read_s.memory),
  };
  return result;
}

export function printFilesTable(f) {
  const pad = (s, n) => String(s).padEnd(n);
  console.log('\nfiles: persistent /home (OPFS) vs in-memory /data, same page (target/bench/files.json)');
  console.log(`${pad('figure', 24)}${pad('memory', 10)}${pad('persistent', 12)}persistent/memory`);
  console.log(`${pad('wasi_small_writes_s', 24)}${pad(f.wasi_small_writes_s.memory, 10)}${pad(f.wasi_small_writes_s.persistent, 12)}${f.ratios.small_writes_persistent_over_memory}`);
  console.log(`${pad('seq_64mib_write_s', 24)}${pad(f.seq_64mib_write_s.memory, 10)}${pad(f.seq_64mib_write_s.persistent, 12)}${f.ratios.seq_write_persistent_over_memory}`);
  console.log(`${pad('seq_64mib_read_s', 24)}${pad(f.seq_64mib_read_s.memory, 10)}${pad(f.seq_64mib_read_s.persistent, 12)}${f.ratios.seq_read_persistent_over_memory}`);
  console.log(`upload of 1,000 files (50 MiB): ${f.upload_1000_files_50mib.seconds} s, ${f.upload_1000_files_50mib.files_per_s} files/s`);
  console.log('written: target/bench/files.json');
}
