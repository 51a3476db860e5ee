// web/kernel/host-files.js: the kernel Worker fetches host files (`capos run --dir`) only
// from /hostfs/ on its own origin, whatever URL a manifest (or a bug) hands it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostFileUrl, HostFiles } from '../../web/kernel/host-files.js';

const ORIGIN = 'http://127.0.0.1:8420';

test('host file URLs stay under /hostfs/ of the page\'s own origin', () => {
  assert.equal(hostFileUrl('/hostfs/0a1b/7', ORIGIN)?.href, `${ORIGIN}/hostfs/0a1b/7`);
  assert.equal(hostFileUrl('/hostfs/0a1b/out/3', ORIGIN)?.href, `${ORIGIN}/hostfs/0a1b/out/3`);
  for (const bad of ['https://example.com/hostfs/1', '//example.com/hostfs/1', '/hostfs/../etc/passwd',
    '/hostfs/a/%2e%2e/b', '/runs/x', 'hostfs/1', '/hostfs/1?x=1', '/hostfs/1#x', '', null, 7]) {
    assert.equal(hostFileUrl(bad, ORIGIN), null, String(bad));
  }
});

test('a refused URL is answered as denied, without a fetch', () => {
  const replies = [];
  const kernel = { hostFailed: (id, kind, message) => replies.push({ id, kind, message }) };
  const files = new HostFiles((action) => action(kernel), ORIGIN);
  files.request(5, { op: 'hostFileRead', url: 'https://example.com/hostfs/1' }, new Uint8Array());
  assert.deepEqual(replies.map((r) => [r.id, r.kind]), [[5, 'denied']]);
});
