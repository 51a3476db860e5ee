// `capos run-project DIR`: a folder run by its language, mounted at
// /project, its changes written back; an unknown folder is refused with the
// files looked for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capos, ROOT } from './harness.mjs';

function project(files) {
  const dir = mkdtempSync(join(tmpdir(), 'capos-project-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

test('a Python project runs main.py from /project with its arguments, and its writes come back', () => {
  const dir = project({
    'main.py': 'import sys\nprint("python project", sys.argv[1:])\nopen("/project/out.txt", "w").write("written by python")\n',
    'data/input.txt': 'x',
  });
  try {
    const r = capos(['run-project', dir, 'a', 'b c'], { timeoutMs: 180_000 });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stderr, /is a Python project: running python with \/project/);
    assert.match(r.stdout, /python project \['a', 'b c'\]/);
    assert.equal(readFileSync(join(dir, 'out.txt'), 'utf8'), 'written by python');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a JavaScript project runs package.json main as a module, importing its own files', () => {
  const dir = project({
    'package.json': '{"name": "demo", "type": "module", "main": "src/app.js"}',
    'src/app.js': "import { greet } from './greet.js';\nconsole.log(greet(process.argv.slice(2).join(' ')));\n",
    'src/greet.js': "export const greet = (who) => `js project says hello to ${who}`;\n",
  });
  try {
    const r = capos(['run-project', dir, 'the', 'world'], { timeoutMs: 180_000 });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stderr, /is a JavaScript project: running qjs/);
    assert.match(r.stdout, /js project says hello to the world/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a compiled project runs its one .wasm (a cargo build output), exit code and all', () => {
  const dir = project({ 'Cargo.toml': '[package]\nname = "tool"\n' });
  mkdirSync(join(dir, 'target', 'wasm32-wasip1', 'release'), { recursive: true });
  copyFileSync(join(ROOT, 'build', 'wasi-tests', 'exit_code.wasm'), join(dir, 'target', 'wasm32-wasip1', 'release', 'tool.wasm'));
  try {
    const r = capos(['run-project', dir, '7'], { timeoutMs: 180_000 });
    assert.equal(r.code, 7, r.stderr + r.stdout);
    assert.match(r.stderr, /is a WebAssembly \(wasm32-wasip1\) project/);
    assert.equal(r.stdout, 'stdout before exit, no newline');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unknown or ambiguous folder is refused, saying what was looked for', () => {
  const unknown = project({ 'README.md': '# nothing to run' });
  const both = project({ 'main.py': '', 'index.js': '' });
  try {
    const r = capos(['run-project', unknown]);
    assert.equal(r.code, 64, r.stderr);
    assert.match(r.stderr, /no project found; looked for main\.py, __main__\.py, pyproject\.toml \(Python\); package\.json/);
    const b = capos(['run-project', both]);
    assert.equal(b.code, 64, b.stderr);
    assert.match(b.stderr, /more than one kind of project here \(Python via python, JavaScript via qjs\)/);
  } finally {
    rmSync(unknown, { recursive: true, force: true });
    rmSync(both, { recursive: true, force: true });
  }
});
