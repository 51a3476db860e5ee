// Files that last, and projects: a persistent /home (OPFS, and IndexedDB
// where OPFS is missing) read back after a reload, uploads through the
// directory input, the picker and a drop, a directory downloaded as a .zip
// and checked entry by entry, a full quota as ENOSPC, and a project folder
// of each kind run from the page.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ROOT, serve, launchBrowser, openBoot, terminalText } from './harness.mjs';

let server;
let browser;
before(async () => { server = await serve(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); server?.stop(); });
// A page left open would hold the persistent store's lock for the next test.
afterEach(async () => { for (const p of browser.context.pages()) await p.close(); });

// Waits for the next event of `kinds` after the first `from` events.
function next(events, kinds, from, timeoutMs = 60_000) {
  const set = new Set([].concat(kinds));
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const poll = () => {
      const found = events.slice(from).find((e) => set.has(e.kind));
      if (found) return resolve(found);
      if (Date.now() > deadline) return reject(new Error(`no ${[...set]} within ${timeoutMs} ms; got ${JSON.stringify(events.slice(from)).slice(0, 2000)}`));
      setTimeout(poll, 20);
    };
    poll();
  });
}

// The newest file view's entries of mount `guest`, as {path: kind/size}.
function lastView(events, guest) {
  const views = events.filter((e) => e.kind === 'files');
  const mount = views.at(-1)?.mounts.find((m) => m.guest === guest);
  return mount && Object.fromEntries(mount.entries.map((e) => [e.path, e.kind === 'file' ? e.size : e.kind]));
}

async function untilView(events, guest, check, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = lastView(events, guest);
    if (view && check(view)) return view;
    if (Date.now() > deadline) throw new Error(`the ${guest} view never matched: ${JSON.stringify(view)}`);
    await new Promise((r) => { setTimeout(r, 50); });
  }
}

// Runs a Python one-liner as the page's python button does, with /home.
async function python(page, events, code) {
  const from = events.length;
  await page.evaluate((c) => globalThis.capos.runRuntime('python', ['-c', c]), code);
  const halted = await next(events, ['halted', 'bootError', 'panic'], from, 120_000);
  assert.equal(halted.kind, 'halted', JSON.stringify(halted));
  assert.equal(halted.code, 0, await terminalText(page));
  return terminalText(page);
}

for (const store of ['opfs', 'idb']) {
  test(`files (${store}): what a program writes to /home is there after a reload, and the file browser shows it`, async () => {
    const url = `${server.url}?manifest=hello&files=1&store=${store}`;
    const { page, events } = await openBoot(browser.context, url);
    await next(events, 'halted', 0);
    const unique = `${store}-${Date.now()}`;
    const text = await python(page, events,
      `open('/home/${unique}.txt','w').write('kept across reloads'); import os; print('listed', sorted(os.listdir('/home')))`);
    assert.match(text, new RegExp(`listed \\[.*'${unique}.txt'.*\\]`));
    await untilView(events, '/home', (v) => v[`${unique}.txt`] === 19);

    // A new page, a new kernel, a new boot (hello, which is not granted /home).
    const before = events.length;
    await page.reload({ waitUntil: 'commit' });
    await next(events, 'halted', before);
    const view = await untilView(events, '/home', (v) => `${unique}.txt` in v);
    assert.equal(view[`${unique}.txt`], 19);
    const again = await python(page, events, `print('read back:', open('/home/${unique}.txt').read())`);
    assert.match(again, /read back: kept across reloads/);
    await page.close();
  });
}

test('files: a tab closed while a file is being stored leaves the old file or the new one, never a mix', async () => {
  const url = `${server.url}?manifest=hello&files=1&store=opfs`;
  let { page, events } = await openBoot(browser.context, url);
  await next(events, 'halted', 0);
  const name = `atomic-${Date.now()}.bin`;
  const MIB = 16;
  await python(page, events, `import os\nwith open('/home/${name}', 'wb') as f:\n  f.write(b'A' * (${MIB} << 20))\n  f.flush()\n  os.fsync(f.fileno())\nprint('stored A')`);
  // Rewrite it, and close the tab as soon as the program says so: the
  // commit of 16 MiB is then under way (or not yet begun).
  const from = events.length;
  await page.evaluate((code) => globalThis.capos.runRuntime('python', ['-c', code]),
    `import time\nwith open('/home/${name}', 'wb') as f:\n  f.write(b'B' * (${MIB} << 20))\nprint('rewritten', flush=True)\ntime.sleep(30)`);
  const deadline = Date.now() + 120_000;
  while (!events.slice(from).some((e) => e.kind === 'console' && e.text.includes('rewritten')) && Date.now() < deadline) {
    await new Promise((r) => { setTimeout(r, 5); });
  }
  await page.close();
  ({ page, events } = await openBoot(browser.context, url));
  await next(events, 'halted', 0);
  const text = await python(page, events,
    `d = open('/home/${name}', 'rb').read()\nprint('kinds', sorted(set(d)), 'size', len(d))`);
  const m = text.match(/kinds \[([\d, ]*)\] size (\d+)/);
  assert.ok(m, text);
  assert.equal(Number(m[2]), MIB << 20, 'the whole file, old or new');
  assert.ok(m[1] === '65' || m[1] === '66', `one content, not a mix: ${m[1]}`);
});

test('files: the files demo syncs its log, lists /home, and a write past its 1 MiB quota is ENOSPC (natively and through WASI); a reload finds one visit more', async () => {
  const { page, events } = await openBoot(browser.context, `${server.url}?manifest=files&files=1`);
  const first = await next(events, ['halted', 'bootError', 'panic'], 0, 60_000);
  const text = await terminalText(page);
  assert.equal(first.code, 0, text);
  const visit = Number(text.match(/files: visit (\d+) of this demo/)[1]);
  assert.match(text, /files: \/home holds README\.txt, big\.bin, visits\.log|files: \/home holds README\.txt, visits\.log/);
  assert.match(text, /files: writing 2 MiB into a directory limited to 1 MiB: ENOSPC after (\d+) KiB/);
  const kib = Number(text.match(/ENOSPC after (\d+) KiB/)[1]);
  assert.ok(kib >= 960 && kib < 1024, `stopped at the quota (${kib} KiB)`);
  assert.match(text, /files: big\.bin removed; the quota is free again/);
  // The same quota met through WASI, by Python's own file objects.
  assert.match(text, /files \(python\): writing 2 MiB to \/home failed with ENOSPC/);
  assert.match(text, /files \(python\): \/home holds README\.txt, visits\.log/);
  const before = events.length;
  await page.reload({ waitUntil: 'commit' });
  await next(events, 'halted', before, 60_000);
  const after = await terminalText(page);
  assert.match(after, new RegExp(`files: visit ${visit + 1} of this demo`), after);
  await page.close();
});

// A project folder on disk: `files` {relative path: text}.
function folder(name, files) {
  const dir = join(mkdtempSync(join(tmpdir(), 'capos-upload-')), name);
  mkdirSync(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

test('files: a folder uploaded through the directory input and through the picker lands in /home, and downloads as a .zip entry by entry', async () => {
  // No directory picker: the <input webkitdirectory> way, as in Firefox and Safari.
  const { page, events } = await openBoot(browser.context, `${server.url}?manifest=hello&files=1`, {
    prepare: (p) => p.addInitScript(() => { delete globalThis.showDirectoryPicker; }),
  });
  await next(events, 'halted', 0);
  await untilView(events, '/home', () => true);
  const name = `upload-${Date.now()}`;
  const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const dir = folder(name, { 'a.txt': 'alpha\n', 'sub/b.txt': 'beta\n', 'sub/deeper/c.md': '# c\n' });
  writeFileSync(join(dir, 'bytes.bin'), binary);
  const chooser = page.waitForEvent('filechooser');
  await page.click('#files-upload-folder');
  await (await chooser).setFiles(dir);
  const view = await untilView(events, '/home', (v) => `${name}/sub/deeper/c.md` in v);
  assert.equal(view[`${name}/a.txt`], 6);
  assert.equal(view[`${name}/bytes.bin`], 256);
  assert.equal(view[`${name}/sub`], 'dir');
  assert.match(await page.locator('#files .files-messages').innerText(), new RegExp(`copied 4 of 4 files .* into /home/${name}`));

  // The picker way: a real FileSystemDirectoryHandle (one made in this
  // origin's private file system) stands in for the person's choice.
  await page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    const picked = await root.getDirectoryHandle('picked-folder', { create: true });
    const sub = await picked.getDirectoryHandle('nested', { create: true });
    for (const [dirHandle, file, text] of [[picked, 'one.txt', 'one'], [sub, 'two.txt', 'two!']]) {
      const out = await (await dirHandle.getFileHandle(file, { create: true })).createWritable();
      await out.write(text);
      await out.close();
    }
    globalThis.showDirectoryPicker = async () => picked;
  });
  await page.click('#files-upload-folder');
  const picked = await untilView(events, '/home', (v) => 'picked-folder/nested/two.txt' in v);
  assert.equal(picked['picked-folder/one.txt'], 3);

  // Download the uploaded folder as a .zip, and read it with Python's zipfile.
  const download = page.waitForEvent('download');
  await page.locator(`#files .files-row[data-path="${name}"] button`, { hasText: '.zip' }).click();
  const zipPath = join(mkdtempSync(join(tmpdir(), 'capos-zip-')), 'out.zip');
  await (await download).saveAs(zipPath);
  const listing = JSON.parse(execFileSync('python3', ['-c', `
import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps({i.filename: [i.compress_type, z.read(i).hex()] for i in z.infolist()}))
`, zipPath], { encoding: 'utf8' }));
  assert.deepEqual(Object.keys(listing).sort(), ['a.txt', 'bytes.bin', 'sub/', 'sub/b.txt', 'sub/deeper/', 'sub/deeper/c.md']);
  assert.equal(Buffer.from(listing['a.txt'][1], 'hex').toString(), 'alpha\n');
  assert.equal(Buffer.from(listing['sub/deeper/c.md'][1], 'hex').toString(), '# c\n');
  assert.deepEqual(Buffer.from(listing['bytes.bin'][1], 'hex'), binary);
  await page.close();
});

test('files: files dropped on the file browser are uploaded; rename and delete change /home', async () => {
  const { page, events } = await openBoot(browser.context, `${server.url}?manifest=hello&files=1`);
  await next(events, 'halted', 0);
  // /home is loaded once the file browser is shown: drop once it is there.
  await untilView(events, '/home', () => true);
  const stamp = Date.now();
  await page.evaluate(async (s) => {
    const dt = new DataTransfer();
    dt.items.add(new File(['dropped one'], `drop-${s}-1.txt`));
    dt.items.add(new File([new Uint8Array([0, 255, 1])], `drop-${s}-2.bin`));
    document.getElementById('files').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, stamp);
  const view = await untilView(events, '/home', (v) => `drop-${stamp}-2.bin` in v);
  assert.equal(view[`drop-${stamp}-1.txt`], 11);
  page.on('dialog', (d) => d.accept(d.type() === 'prompt' ? `renamed-${stamp}.txt` : undefined));
  await page.locator(`#files .files-row[data-path="drop-${stamp}-1.txt"] button`, { hasText: 'rename' }).click();
  await untilView(events, '/home', (v) => `renamed-${stamp}.txt` in v && !(`drop-${stamp}-1.txt` in v));
  await page.locator(`#files .files-row[data-path="drop-${stamp}-2.bin"] button`, { hasText: 'delete' }).click();
  await untilView(events, '/home', (v) => !(`drop-${stamp}-2.bin` in v));
  await page.close();
});

test('files: a project folder of each kind runs from the page, copied into /home/<name>, its files kept', async () => {
  const wasm = join(ROOT, 'build', 'wasi-tests', 'random.wasm');
  const projects = {
    [`py-${Date.now()}`]: { files: { 'main.py': 'import sys\nprint("python project", sys.argv[1:])\nopen("/project/out.txt", "w").write("from python")\n' }, says: /python project \[\]/ },
    [`js-${Date.now()}`]: { files: { 'package.json': '{"main": "src/app.js"}', 'src/app.js': 'console.log("javascript project");\n' }, says: /javascript project/ },
    [`wasm-${Date.now()}`]: { files: {}, wasm: true, says: /ok +random_get/ },
  };
  const { page, events } = await openBoot(browser.context, `${server.url}?manifest=hello&files=1`, {
    prepare: (p) => p.addInitScript(() => { delete globalThis.showDirectoryPicker; }),
  });
  await next(events, 'halted', 0);
  for (const [name, p] of Object.entries(projects)) {
    const dir = folder(name, p.files);
    if (p.wasm) copyFileSync(wasm, join(dir, 'tool.wasm'));
    const from = events.length;
    const chooser = page.waitForEvent('filechooser');
    await page.click('#open-project');
    await (await chooser).setFiles(dir);
    const project = await next(events, ['project', 'bootError'], from);
    assert.equal(project.kind, 'project', JSON.stringify(project));
    const halted = await next(events, ['halted', 'bootError', 'panic'], from, 120_000);
    const text = await terminalText(page);
    assert.equal(halted.code, 0, text);
    assert.match(text, p.says);
    rmSync(dir, { recursive: true, force: true });
  }
  const [py] = Object.keys(projects);
  const view = await untilView(events, '/home', (v) => `${py}/out.txt` in v);
  assert.equal(view[`${py}/main.py`] > 0, true);

  // A folder that is no project: refused, with the files looked for.
  const from = events.length;
  const chooser = page.waitForEvent('filechooser');
  await page.click('#open-project');
  await (await chooser).setFiles(folder(`none-${Date.now()}`, { 'README': 'nothing to run' }));
  const refused = await next(events, ['bootError', 'halted'], from);
  assert.equal(refused.kind, 'bootError');
  assert.match(refused.message, /no project found; looked for main\.py/);
  await page.close();
});

test('files: the kernel Worker refuses malformed file requests from the page', async () => {
  const { page, events } = await openBoot(browser.context, `${server.url}?manifest=hello`);
  await next(events, 'halted', 0);
  const answers = await page.evaluate(async () => {
    const { checkPageMessage } = await import('/shared/messages.js');
    return [
      checkPageMessage({ type: 'editFiles', id: 1, mount: 0, edits: [{ op: 'write', path: '/etc/passwd', data: new Uint8Array() }] }),
      checkPageMessage({ type: 'editFiles', id: 1, mount: 0, edits: [{ op: 'chmod', path: 'a' }] }),
      checkPageMessage({ type: 'readFiles', id: 1, mount: 0, path: 'a\0b' }),
      checkPageMessage({ type: 'bootProject', name: '..', files: [], args: [], env: [] }),
    ];
  });
  for (const a of answers) assert.ok(a, 'refused');
  await page.close();
});
