// The preview's HTTP/1.1 parser (web/net/http1.js) on what a server process
// may write: every framing, split anywhere, and bytes that are not HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseParser, requestHead, responseHeaders } from '../../web/net/http1.js';

const enc = (s) => new TextEncoder().encode(s);

// Feeds `bytes` in pieces of `step` and returns what the parser said.
function parse(bytes, { step = bytes.length, head = false, end = true } = {}) {
  const parser = new ResponseParser({ head });
  const out = { head: null, body: [], done: false, error: null };
  parser.onHead = (h) => { out.head = h; };
  parser.onBody = (b) => out.body.push(...b);
  parser.onDone = () => { out.done = true; };
  parser.onError = (e) => { out.error = e; };
  for (let i = 0; i < bytes.length; i += step) parser.feed(bytes.subarray(i, i + step));
  if (end) parser.end();
  return { ...out, body: Buffer.from(out.body).toString('latin1') };
}

test('Content-Length, chunked and until-close bodies, fed a byte at a time', () => {
  for (const step of [1, 3, 1000]) {
    let r = parse(enc('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhelloEXTRA'), { step });
    assert.equal(r.head.status, 200);
    assert.equal(r.body, 'hello');
    assert.ok(r.done && !r.error);
    r = parse(enc('HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nT: 1\r\n\r\n'), { step });
    assert.equal(r.body, 'hello world');
    assert.ok(r.done && !r.error);
    r = parse(enc('HTTP/1.0 200 OK\r\n\r\nuntil the end'), { step });
    assert.equal(r.body, 'until the end');
    assert.ok(r.done);
  }
});

test('interim responses are skipped; HEAD, 204 and 304 have no body', () => {
  let r = parse(enc('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  assert.equal(r.head.status, 200);
  assert.equal(r.body, 'ok');
  r = parse(enc('HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n'), { head: true, end: false });
  assert.ok(r.done);
  r = parse(enc('HTTP/1.1 204 No Content\r\nContent-Length: 99\r\n\r\n'), { end: false });
  assert.ok(r.done);
});

test('what is not HTTP, or is cut short, is an error with a reason', () => {
  assert.match(parse(enc('\x00\x01binary garbage here')).error, /not an HTTP response: "..binary garbage here"/);
  assert.match(parse(enc('')).error, /closed the connection without answering/);
  assert.match(parse(enc('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort')).error, /in the middle of the response/);
  assert.match(parse(enc('HTTP/1.1 200 OK\r\nBad Header\r\n\r\n')).error, /malformed header line/);
  assert.match(parse(enc('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n')).error, /conflicting Content-Length/);
  assert.match(parse(enc('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')).error, /bad chunk size/);
  assert.match(parse(enc(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(70_000)}`), { end: false }).error, /over 64 KiB/);
});

test('the request head and the response headers leave out the framing', () => {
  const head = new TextDecoder().decode(requestHead('POST', '/a?b=1', [['X-Y', 'z'], ['Connection', 'keep-alive'], ['host', 'evil']], '127.0.0.1:8080', 3));
  assert.equal(head, 'POST /a?b=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nX-Y: z\r\nContent-Length: 3\r\nConnection: close\r\n\r\n');
  const kept = responseHeaders({ headers: [['Content-Type', 'text/html'], ['Transfer-Encoding', 'chunked'], ['Content-Length', '5']] });
  assert.deepEqual(kept, [['Content-Type', 'text/html']]);
});
