// The capability-model demos through `capos boot`: exit codes and key lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capos } from './harness.mjs';

test('capos boot endpoint-roundtrip prints count and mean round-trip time', () => {
  const r = capos(['boot', 'endpoint-roundtrip', '--timeout', '90']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const m = r.stdout.match(/endpoint-roundtrip: (\d+) round trips, mean ([\d.]+) us per round trip/);
  assert.ok(m, r.stdout);
  assert.equal(Number(m[1]), 10000);
  assert.ok(Number(m[2]) > 0);
  console.log(`# endpoint-roundtrip mean round trip: ${m[2]} us`);
});

test('capos boot ipc shows which badge made which call', () => {
  const r = capos(['boot', 'ipc', '--timeout', '60']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /ipc-server: call from badge 1: "hi from client 1"/);
  assert.match(r.stdout, /ipc-server: call from badge 2: "hi from client 2"/);
  assert.match(r.stdout, /\[client 1\] ipc-server wrote this through the console you sent \(your badge is 1\)/);
  assert.match(r.stdout, /\[client 2\] ipc-server wrote this through the console you sent \(your badge is 2\)/);
  assert.match(r.stdout, /ipc: all processes exited cleanly/);
});

test('capos boot denied prints the refusals and exits 0', () => {
  const r = capos(['boot', 'denied', '--timeout', '60']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal((r.stdout.match(/: refused \(UnknownCap/g) || []).length, 5, r.stdout);
  assert.match(r.stdout, /every attempt was refused/);
});

test('capos boot dead-server: the caller of a dead server gets PeerGone', () => {
  const r = capos(['boot', 'dead-server', '--timeout', '60']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /PeerGone: server pid 2 ended before replying/);
  assert.match(r.stdout, /survivor \(pid 3\) exited with code 0/);
});

test('capos boot revoke: a killed server loses everything and its blocked caller gets PeerGone', () => {
  const r = capos(['boot', 'revoke', '--timeout', '60']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /revoke-server: took a call from badge 7; spinning without answering/);
  assert.match(r.stdout, /revoke: the server \(pid 2\) was killed by pid 1; everything it held is revoked/);
  assert.match(r.stdout, /revoke-client: my call was answered: PeerGone/);
  assert.match(r.stdout, /revoke: the client \(pid 3\) exited with code 0/);
});

test('capos boot swarm: 50 children (more than one ring slot of specs) all finish', () => {
  const r = capos(['boot', 'swarm', '--timeout', '90']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /swarm: 50 processes calling in pairs for 6 s/);
  assert.match(r.stdout, /swarm: every pair finished/);
});
