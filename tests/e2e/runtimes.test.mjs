// JavaScript and Python on capOS: the catalogue's QuickJS (`qjs`) and
// RustPython (`python`) runtimes, through `capos run` and on the page, and
// the loader that fetches, verifies and caches them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ROOT, CAPOS, capos, serve, launchBrowser, openBoot, terminalText } from './harness.mjs';

function run(args, input = '') {
  const r = spawnSync(CAPOS, ['run', ...args], { input, encoding: 'utf8', timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const catalogue = () => JSON.parse(readFileSync(join(ROOT, 'build', 'site', 'runtimes', 'catalogue.json'), 'utf8'));

test('qjs -e and python -c print what they compute', () => {
  let r = run(['qjs', '-e', 'console.log(6 * 7, [1, "a"], { k: true })']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "42 [ 1, 'a' ] { k: true }\n");
  r = run(['python', '-c', 'import json, re, math, collections, datetime, pathlib, itertools; print(6 * 7, json.dumps({"k": [1]}))']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '42 {"k": [1]}\n');
});

test('scripts get their arguments, environment and --dir files, and exit with their code', () => {
  const dir = mkdtempSync(join(tmpdir(), 'capos-runtimes-'));
  try {
    writeFileSync(join(dir, 'input.txt'), 'three\nlines\nhere\n');
    writeFileSync(join(dir, 'lib.mjs'), 'export const twice = (x) => 2 * x;\n');
    writeFileSync(join(dir, 'main.js'), [
      "import fs from 'fs';",
      "import { twice } from './lib.mjs';",
      "const lines = fs.readFileSync('/data/input.txt', 'utf8').trim().split('\\n');",
      "fs.writeFileSync('/data/from-js.txt', `${lines.length} lines, ${twice(21)}\\n`);",
      'console.log(scriptArgs.slice(1).join(","), process.env.GREETING);',
      'process.exit(4);',
    ].join('\n'));
    writeFileSync(join(dir, 'main.py'), [
      'import os, sys',
      "lines = open('/data/input.txt').read().split()",
      "open('/data/from-python.txt', 'w').write(f'{len(lines)} words\\n')",
      "print(','.join(sys.argv[1:]), os.environ['GREETING'])",
      'sys.exit(3)',
    ].join('\n'));
    let r = run(['--dir', `${dir}::/data`, '--env', 'GREETING=hi', 'qjs', '/data/main.js', 'a', 'b c']);
    assert.equal(r.code, 4, r.stdout + r.stderr);
    assert.equal(r.stdout, 'a,b c hi\n');
    assert.equal(readFileSync(join(dir, 'from-js.txt'), 'utf8'), '3 lines, 42\n');
    r = run(['--dir', `${dir}::/data`, '--env', 'GREETING=hi', 'python', '/data/main.py', 'x', 'y z']);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.equal(r.stdout, 'x,y z hi\n');
    assert.equal(readFileSync(join(dir, 'from-python.txt'), 'utf8'), '3 words\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('python -m runs a module with piped stdin', () => {
  const r = run(['python', '-m', 'json.tool', '--sort-keys'], '{"b": [1, 2], "a": "x"}');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '{\n    "a": "x",\n    "b": [\n        1,\n        2\n    ]\n}\n');
});

test('an uncaught error prints its stack or traceback on stderr and exits 1', () => {
  let r = run(['qjs', '-e', 'function boom() { throw new RangeError("out of range"); }\nboom();']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^RangeError: out of range\n {4}at boom \(<eval>:1/);
  r = run(['python', '-c', 'def boom():\n    raise KeyError("missing")\nboom()']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Traceback \(most recent call last\):[\s\S]*in boom[\s\S]*KeyError: 'missing'/);
});

test('the REPLs, piped: values echo, definitions last, an exception does not end them', () => {
  let r = run(['qjs'], '1+1\nfunction twice(x) {\n  return 2 * x;\n}\ntwice(21)\nnull.x\n"still here"\n');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "2\nundefined\n42\n'still here'\n");
  assert.match(r.stderr, /Uncaught TypeError: cannot read property 'x' of null/);
  r = run(['python', '-i'], '1+1\ndef twice(x):\n    return 2 * x\n\ntwice(21)\n1/0\n"still here"\n');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "2\n42\n'still here'\n");
  assert.match(r.stderr, /ZeroDivisionError: division by zero/);
});

test('a name that is neither a file nor a runtime lists the runtimes', () => {
  const r = run(['perl', '-e', '1']);
  assert.equal(r.code, 64);
  assert.match(r.stderr, /perl is neither a file nor a runtime; the runtimes are: python \(RustPython[^)]*\), qjs \(QuickJS/);
});

test('polyglot through capos boot: five languages, each confined to its own /data', () => {
  const r = capos(['boot', 'polyglot'], { timeoutMs: 180_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  for (const [lang, others] of [
    ['rust', 'go, c, js, python'], ['go', 'rust, c, js, python'], ['c', 'rust, go, js, python'],
    ['js', 'rust, go, c, python'], ['python', 'rust, go, c, js'],
  ]) {
    const refused = others.split(', ').map((o) => `${o} \\(ENOENT\\)`).join(', ');
    assert.match(r.stdout, new RegExp(`^\\[${lang}\\] wrote /data/from-${lang}.txt; cannot read ${refused}$`, 'm'));
  }
  assert.match(r.stdout, /polyglot: all 5 exited 0/);
});

let site;
let browser;
let requestLog;
before(async () => {
  // The site server logs what it serves: a cache hit must fetch no runtime.
  requestLog = join(mkdtempSync(join(tmpdir(), 'capos-requests-')), 'requests.log');
  writeFileSync(requestLog, '');
  process.env.CAPOS_SERVE_LOG = requestLog;
  site = await serve();
  delete process.env.CAPOS_SERVE_LOG;
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  site?.stop();
});

// Types each line at the REPL's next prompt (`prompt` matches one at the start
// of a line), as a person would: never ahead of the program.
async function typeAtPrompts(page, prompt, lines) {
  const prompts = async () => (await terminalText(page)).match(new RegExp(prompt.source, 'gm'))?.length ?? 0;
  for (let i = 0; i < lines.length; i++) {
    const deadline = Date.now() + 30_000;
    while (await prompts() < i + 1) {
      if (Date.now() > deadline) throw new Error(`no prompt ${i + 1}:\n${await terminalText(page)}`);
      await new Promise((r) => { setTimeout(r, 50); });
    }
    await page.keyboard.type(lines[i]);
    await page.keyboard.press('Enter');
  }
}

const runtimeRequests = (name) => readFileSync(requestLog, 'utf8').split('\n')
  .filter((line) => line.startsWith(`GET /runtimes/${name}.wasm `));

async function waitForText(page, pattern, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await terminalText(page);
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`terminal never matched ${pattern}:\n${text}`);
    await new Promise((r) => { setTimeout(r, 100); });
  }
}

test('on the page: the Python REPL typed into xterm, downloaded once with progress, then served from the cache', async () => {
  const { page, events, waitFor } = await openBoot(browser.context, `${site.url}?manifest=hello&inspector=off`);
  await waitFor('halted');
  await page.click('#repl-python');
  await waitForText(page, />>> $/m);
  // The first load downloaded it, showing progress, and verified it.
  const downloads = events.filter((e) => e.kind === 'runtime' && e.name === 'python');
  assert.ok(downloads.some((e) => e.phase === 'download' && e.total === catalogue().runtimes.find((r) => r.name === 'python').size));
  assert.ok(downloads.some((e) => e.phase === 'ready' && e.cached === false));
  assert.equal(runtimeRequests('python').length, 1, 'downloaded once');
  assert.match(runtimeRequests('python')[0], / 200 br /, 'served precompressed');

  await page.click('#terminal');
  await typeAtPrompts(page, /^(>>>|\.\.\.) /, ['1+1', 'def twice(x):', '    return 2 * x', '', 'twice(21)', '1/0', '"still here"']);
  const text = await waitForText(page, /'still here'\n>>> $/);
  assert.match(text, />>> 1\+1\n2\n/);
  assert.match(text, /\.\.\. {5}return 2 \* x\n/);
  assert.match(text, />>> twice\(21\)\n42\n/);
  assert.match(text, /ZeroDivisionError: division by zero/);

  // A second boot (a new kernel Worker) finds it in CacheAPI: no request.
  events.length = 0;
  await page.evaluate(() => globalThis.capos.runRuntime('python'));
  await waitForText(page, /^>>> $/m);
  assert.ok(events.some((e) => e.kind === 'runtime' && e.phase === 'ready' && e.cached === true), JSON.stringify(events));
  assert.equal(runtimeRequests('python').length, 1, 'the cache hit fetched nothing');
  await page.close();
});

test('on the page: the JavaScript REPL, and a tampered runtime that is refused before anything runs', async () => {
  const context = (await launchBrowser());
  try {
    // One byte changed on the way (the kernel Worker's request, so the
    // whole context is routed): the loader must refuse it.
    await context.context.route('**/runtimes/qjs.wasm', async (route) => {
      const body = Buffer.from(readFileSync(join(ROOT, 'build', 'site', 'runtimes', 'qjs.wasm')));
      body[body.length - 100] ^= 0x01;
      await route.fulfill({ status: 200, body, headers: { 'content-type': 'application/wasm' } });
    });
    const { page, events, waitFor } = await openBoot(context.context, `${site.url}?manifest=hello&inspector=off`);
    // The page's first boot (hello) is over before the REPL is asked for: what follows is the REPL's.
    await waitFor('halted');
    events.length = 0;
    await page.click('#repl-qjs');
    const failed = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(JSON.stringify(events))), 60_000);
      const poll = setInterval(() => {
        const e = events.find((x) => x.kind === 'runtime' && x.phase === 'failed');
        if (e) { clearInterval(poll); clearTimeout(timer); resolve(e); }
      }, 50);
    });
    assert.match(failed.message, /runtime qjs: its SHA-256 is [0-9a-f]{64}, not the expected [0-9a-f]{64}: .*it was not run/);
    assert.match(await page.locator('#runtime-progress label').textContent(), /qjs not loaded: .*SHA-256/);
    // What the terminal shows is the kernel's account of the failure, and nothing the program wrote.
    await page.waitForFunction(() => globalThis.capos.terminalText().includes('system halted'));
    assert.match(events.filter((e) => e.kind === 'console').map((e) => e.text).join(''),
      /^\[pid 1 qjs\] failed to start: runtime qjs: its SHA-256 is [0-9a-f]{64}, not the expected [0-9a-f]{64}: [^\n]*it was not run\n$/);
    await context.context.unroute('**/runtimes/qjs.wasm');

    // Untampered, it runs (and nothing bad was cached).
    events.length = 0;
    await page.evaluate(() => globalThis.capos.runRuntime('qjs'));
    await page.click('#terminal');
    await typeAtPrompts(page, /^(>|\.\.\.) /, ['1+1', 'const o = {', '  a: [1, 2],', '}', 'o', 'undefinedName']);
    const text = await waitForText(page, /Uncaught ReferenceError: undefinedName is not defined\n {4}at <eval> \(<repl>:1:1\)\n> $/);
    assert.match(text, /> 1\+1\n2\n/);
    assert.match(text, /> o\n\{ a: \[ 1, 2 \] \}\n/);
    // Ctrl-D ends the input, and with it the REPL.
    events.length = 0;
    await page.keyboard.press('Control+D');
    const halted = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(JSON.stringify(events))), 30_000);
      const poll = setInterval(() => {
        const e = events.find((x) => x.kind === 'halted');
        if (e) { clearInterval(poll); clearTimeout(timer); resolve(e); }
      }, 50);
    });
    assert.equal(halted.code, 0);
    await page.close();
  } finally {
    await context.close();
  }
});

test('on the page: polyglot, and a .py script picked in the run form runs with python', async () => {
  const { page, waitFor } = await openBoot(browser.context, `${site.url}?manifest=polyglot&inspector=off`);
  const halted = await waitFor('halted', 120_000);
  assert.equal(halted.code, 0, await terminalText(page));
  const text = await terminalText(page);
  for (const lang of ['rust', 'go', 'c', 'js', 'python']) assert.match(text, new RegExp(`^\\[${lang}\\] wrote /data/from-${lang}.txt; cannot read`, 'm'));
  assert.match(text, /polyglot: all 5 exited 0/);

  await page.setInputFiles('#wasm-file', { name: 'hello.py', mimeType: 'text/x-python', buffer: Buffer.from('import sys\nprint("hello from", sys.argv[0], sys.argv[1:])\n') });
  await page.fill('#wasm-args', 'one two');
  await page.click('#run-form button[type=submit]');
  await waitForText(page, /hello from \/data\/hello\.py \['one', 'two'\]/);
  await page.close();
});
