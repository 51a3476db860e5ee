// The inspector's modules load without a DOM, and never parse markup: names
// and messages come from untrusted programs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const DIR = join(import.meta.dirname, '../../web/ui/inspector');
const files = readdirSync(DIR).filter((f) => f.endsWith('.js'));

test('every inspector module imports without a DOM', async () => {
  assert.ok(files.includes('panel.js'));
  for (const f of files) await import(join(DIR, f));
  const { createInspector } = await import(join(DIR, 'panel.js'));
  assert.equal(typeof createInspector, 'function');
});

test('no inspector module builds DOM from markup', () => {
  for (const f of files) {
    const source = readFileSync(join(DIR, f), 'utf8');
    assert.doesNotMatch(source, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment/, f);
  }
});
