// WASI programs as capOS processes: `capos run` from a terminal, and the page
// running a picked .wasm that a person types into.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ROOT, CAPOS, serve, launchBrowser, openBoot, terminalText } from './harness.mjs';

const ECHO_LINES = join(ROOT, 'build', 'wasi', 'echo-lines.wasm');
const TESTS = join(ROOT, 'build', 'wasi-tests');

function run(args, input = '') {
  const r = spawnSync(CAPOS, ['run', ...args], { input, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('piped stdin reaches the program and its answers come back in order', () => {
  const r = run([ECHO_LINES], 'hello\nworld\n');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout,
    'echo-lines: type a line; `quit` or end of input (Ctrl-D) ends\n' +
    '> you said: hello\n> you said: world\n> \nbye (end of input)\n');
});

test('the exit code, arguments and environment are the program\'s', () => {
  const r = run(['--env', 'EMPTY=', '--env', 'WITH_EQUALS=a=b', join(TESTS, 'exit_code.wasm'), '7']);
  assert.equal(r.code, 7, r.stdout + r.stderr);
  assert.equal(r.stdout, 'stdout before exit, no newline');
  assert.equal(r.stderr, 'stderr before exit, no newline');
});

test('a trap exits 134 with the trap on stderr', () => {
  const r = run([join(TESTS, 'trap.wasm')]);
  assert.equal(r.code, 134);
  assert.match(r.stdout, /before the trap/);
  assert.match(r.stderr, /trapped: .*unreachable/);
});

test('a file that is not wasm, and a --dir that is not a directory, are refused before booting', () => {
  let r = run([join(ROOT, 'README.md')]);
  assert.equal(r.code, 64);
  assert.match(r.stderr, /not a WebAssembly module/);
  r = run(['--dir', join(ROOT, 'README.md'), ECHO_LINES]);
  assert.equal(r.code, 64);
  assert.match(r.stderr, /--dir .*is not a directory/);
});

// The Rust, Go and C tours: stdio, args, env, files and directories (under
// --dir, written back at exit), clocks, sleep, random.
for (const tour of ['rust-tour', 'go-tour', 'c-tour']) {
  test(`${tour} through capos run with --dir, --env, arguments and piped stdin`, () => {
    const dir = mkdtempSync(join(tmpdir(), `capos-${tour}-`));
    writeFileSync(join(dir, 'before.txt'), 'was here before\n');
    try {
      const r = run(['--dir', `${dir}::/data`, '--env', 'GREETING=hello', join(ROOT, 'build', 'wasi', `${tour}.wasm`), '/data'],
        'first\nsecond\n');
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`${tour}: all good`));
      assert.match(r.stdout, /stdin: 2 lines/);
      assert.match(r.stdout, /GREETING=hello/);
      assert.match(r.stderr, /this line goes to stderr/);
      // What the program left in /data is now in the host directory.
      assert.equal(readFileSync(join(dir, 'before.txt'), 'utf8'), 'was here before\n');
      assert.match(readFileSync(join(dir, tour, 'summary.txt'), 'utf8'), new RegExp(`${tour} was here`));
      assert.deepEqual(readdirSync(join(dir, tour)), ['summary.txt'], 'what it deleted is gone');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

let server;
let browser;
before(async () => { server = await serve(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); server?.stop(); });

test('on the page: pick a .wasm, run it with arguments, and type into it', async () => {
  const { page, waitFor, events } = await openBoot(browser.context, `${server.url}?manifest=hello`);
  await waitFor('halted');
  await page.locator('#wasm-file').setInputFiles(ECHO_LINES);
  await page.locator('#wasm-args').fill('--ignored "two words"');
  await page.locator('#run-form button').click();
  await page.waitForFunction(() => globalThis.capos?.terminalText().includes('> '));
  await page.locator('.xterm-helper-textarea').focus();
  await page.keyboard.type('hi there');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => globalThis.capos.terminalText().includes('you said: hi there'));
  await page.keyboard.type('quit');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => globalThis.capos.terminalText().includes('system halted'));
  const text = await terminalText(page);
  assert.match(text, /^echo-lines: type a line/m);
  assert.match(text, /> hi there\nyou said: hi there\n> quit\nbye/);
  assert.equal(events.filter((e) => e.kind === 'halted').at(-1).code, 0);
  assert.match(await page.locator('#status').innerText(), /halted: init exited with code 0/);
  await page.close();
});

// The same tours on the page: picked with the file picker, with arguments and
// environment from the form, stdin typed into xterm and ended with Ctrl-D, and
// the page's empty in-memory /data to work in.
for (const tour of ['rust-tour', 'go-tour', 'c-tour']) {
  test(`on the page: ${tour} with arguments, environment, typed stdin and /data`, async () => {
    const { page, waitFor, events } = await openBoot(browser.context, `${server.url}?manifest=hello`);
    await waitFor('halted');
    const before = events.filter((e) => e.kind === 'halted').length;
    await page.locator('#wasm-file').setInputFiles(join(ROOT, 'build', 'wasi', `${tour}.wasm`));
    await page.locator('#wasm-args').fill('/data "two words"');
    await page.locator('#wasm-env').fill('GREETING=hello');
    await page.locator('#run-form button').click();
    await page.waitForFunction(() => globalThis.capos?.terminalText().includes('args: 2'));
    await page.locator('.xterm-helper-textarea').focus();
    await page.keyboard.type('first');
    await page.keyboard.press('Enter');
    await page.keyboard.type('second');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Control+D');
    await page.waitForFunction(() => globalThis.capos.terminalText().includes('system halted'), null, { timeout: 60_000 });
    const text = await terminalText(page);
    assert.match(text, new RegExp(`${tour}: all good`), text);
    assert.match(text, /stdin: 2 lines/);
    assert.match(text, /GREETING=hello/);
    assert.match(text, /"two words"/);
    assert.match(text, /this line goes to stderr/);
    assert.equal(events.filter((e) => e.kind === 'halted').length, before + 1);
    assert.equal(events.filter((e) => e.kind === 'halted').at(-1).code, 0, text);
    await page.close();
  });
}

test('on the page: an environment entry that is not KEY=VALUE is refused before booting', async () => {
  const { page, waitFor, events } = await openBoot(browser.context, `${server.url}?manifest=hello`);
  await waitFor('halted');
  await page.locator('#wasm-file').setInputFiles(ECHO_LINES);
  await page.locator('#wasm-env').fill('GREETING=hello oops');
  await page.locator('#run-form button').click();
  assert.equal(await page.locator('#wasm-env').evaluate((el) => el.validationMessage), 'not KEY=VALUE: oops');
  await page.waitForTimeout(500);
  assert.doesNotMatch(await terminalText(page), /echo-lines/, 'the program was not started');
  assert.equal(events.filter((e) => e.kind === 'halted').length, 1, 'only the first boot halted');
  await page.close();
});

test('on the page: program output is bytes, and a character split across writes shows whole', async () => {
  const { page, waitFor, events } = await openBoot(browser.context, `${server.url}?manifest=hello`);
  await waitFor('halted');
  const before = events.length;
  await page.locator('#wasm-file').setInputFiles(join(TESTS, 'stdio_bytes.wasm'));
  await page.locator('#wasm-args').fill('split');
  await page.locator('#run-form button').click();
  await page.waitForFunction(() => globalThis.capos.terminalText().includes('system halted'), null, { timeout: 60_000 });
  const output = events.slice(before).filter((e) => e.kind === 'console');
  const bytesOf = (stream) => Buffer.concat(output.filter((e) => e.stream === stream).map((e) => Buffer.from(e.data, 'base64')));
  // What a driver gets is exactly what the program wrote, write by write...
  assert.deepEqual(bytesOf('stdout'), Buffer.from('café\n'));
  assert.deepEqual(bytesOf('stderr'), Buffer.from('é\n'));
  assert.ok(output.some((e) => Buffer.from(e.data, 'base64').equals(Buffer.from([0xc3]))), 'é was split across writes');
  // ...and the terminal decoded each stream across its write boundaries.
  const text = await terminalText(page);
  assert.match(text, /^café$/m, text);
  assert.match(text, /^é$/m, text);
  assert.doesNotMatch(text, /\uFFFD/);
  await page.close();
});
