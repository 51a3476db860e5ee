// HTTP/1.1 on a capOS connection, the client's side: the request head the
// preview sends, and a parser for the raw bytes a server process writes back
// (status line, headers, then a body framed by Content-Length, chunked
// encoding, or the end of the stream). The bytes come from an untrusted
// process: anything malformed is an error with a reason, never an exception
// that escapes, never a hang.

const encoder = new TextEncoder();
const MAX_HEAD = 64 * 1024;
const MAX_CHUNK_LINE = 1024;
// Headers that describe the connection, not the response: the parser
// decodes the framing itself.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'content-length']);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

// The request head for `method` `target` (a path with its query), with
// `headers` ([name, value] pairs; the hop-by-hop ones are left out) and a
// body of `bodyLength` bytes.
export function requestHead(method, target, headers, host, bodyLength) {
  const lines = [`${method} ${target} HTTP/1.1`, `Host: ${host}`];
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower === 'host') continue;
    lines.push(`${name}: ${value}`);
  }
  if (bodyLength > 0 || !['GET', 'HEAD'].includes(method)) lines.push(`Content-Length: ${bodyLength}`);
  lines.push('Connection: close', '', '');
  return encoder.encode(lines.join('\r\n'));
}

function indexOfCrlfCrlf(bytes) {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
  }
  return -1;
}

function indexOfCrlf(bytes, from = 0) {
  for (let i = from; i + 1 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10) return i;
  }
  return -1;
}

function concat(a, b) {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

// Shows bytes that are not HTTP as a short, printable excerpt.
function excerpt(bytes) {
  const text = Array.from(bytes.subarray(0, 40), (b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
  return JSON.stringify(text);
}

// Parses a response fed in pieces. Handlers: onHead({status, statusText,
// headers: [[name, value]]}), onBody(Uint8Array), onDone(), onError(reason).
// Exactly one of onDone and onError is called, once.
export class ResponseParser {
  constructor({ head = false } = {}) {
    this.forHead = head; // the request was HEAD: no body whatever the headers say
    this.buffer = new Uint8Array(0);
    this.state = 'head'; // head | length | chunk-size | chunk | chunk-end | trailer | close | done
    this.remaining = 0;
    this.onHead = () => {};
    this.onBody = () => {};
    this.onDone = () => {};
    this.onError = () => {};
  }

  feed(bytes) {
    if (this.state === 'done') return;
    this.buffer = concat(this.buffer, bytes);
    try {
      this.run();
    } catch (err) {
      this.fail(err.message);
    }
  }

  // The server closed the connection (or finished sending).
  end() {
    if (this.state === 'done') return;
    if (this.state === 'close') return this.finish();
    if (this.state === 'head') {
      return this.fail(this.buffer.length === 0
        ? 'the server closed the connection without answering'
        : `the server's answer is not an HTTP response: ${excerpt(this.buffer)}`);
    }
    this.fail('the server closed the connection in the middle of the response');
  }

  fail(reason) {
    if (this.state === 'done') return;
    this.state = 'done';
    this.onError(reason);
  }

  finish() {
    this.state = 'done';
    this.onDone();
  }

  run() {
    for (;;) {
      switch (this.state) {
        case 'head': {
          const end = indexOfCrlfCrlf(this.buffer);
          if (end < 0) {
            if (this.buffer.length > MAX_HEAD) throw new Error('the response head is over 64 KiB');
            if (this.buffer.length >= 5 && !/^HTTP\//.test(String.fromCharCode(...this.buffer.subarray(0, 5)))) {
              throw new Error(`the server's answer is not an HTTP response: ${excerpt(this.buffer)}`);
            }
            return;
          }
          const head = this.parseHead(this.buffer.subarray(0, end));
          this.buffer = this.buffer.subarray(end + 4);
          // 1xx: an interim response; the real one follows.
          if (head.status < 200) continue;
          this.onHead(head);
          this.startBody(head);
          break;
        }
        case 'length': {
          const n = Math.min(this.remaining, this.buffer.length);
          if (n > 0) {
            this.onBody(this.buffer.slice(0, n));
            this.buffer = this.buffer.subarray(n);
            this.remaining -= n;
          }
          if (this.remaining === 0) return this.finish();
          return;
        }
        case 'close':
          if (this.buffer.length > 0) this.onBody(this.buffer.slice());
          this.buffer = new Uint8Array(0);
          return;
        case 'chunk-size': {
          const end = indexOfCrlf(this.buffer);
          if (end < 0) {
            if (this.buffer.length > MAX_CHUNK_LINE) throw new Error('a chunk size line is too long');
            return;
          }
          const line = new TextDecoder().decode(this.buffer.subarray(0, end)).split(';')[0].trim();
          if (!/^[0-9a-fA-F]{1,13}$/.test(line)) throw new Error(`bad chunk size ${JSON.stringify(line)}`);
          this.remaining = parseInt(line, 16);
          this.buffer = this.buffer.subarray(end + 2);
          this.state = this.remaining === 0 ? 'trailer' : 'chunk';
          break;
        }
        case 'chunk': {
          const n = Math.min(this.remaining, this.buffer.length);
          if (n === 0) return;
          this.onBody(this.buffer.slice(0, n));
          this.buffer = this.buffer.subarray(n);
          this.remaining -= n;
          if (this.remaining === 0) this.state = 'chunk-end';
          break;
        }
        case 'chunk-end':
          if (this.buffer.length < 2) return;
          if (this.buffer[0] !== 13 || this.buffer[1] !== 10) throw new Error('a chunk does not end with CRLF');
          this.buffer = this.buffer.subarray(2);
          this.state = 'chunk-size';
          break;
        case 'trailer': {
          // Trailer fields are read past and dropped; a blank line ends them.
          const end = indexOfCrlf(this.buffer);
          if (end < 0) {
            if (this.buffer.length > MAX_HEAD) throw new Error('the trailer is over 64 KiB');
            return;
          }
          this.buffer = this.buffer.subarray(end + 2);
          if (end === 0) return this.finish();
          break;
        }
        default:
          return;
      }
    }
  }

  parseHead(bytes) {
    const text = new TextDecoder('latin1').decode(bytes);
    const lines = text.split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0]);
    if (!status) throw new Error(`the server's answer is not an HTTP response: ${excerpt(bytes)}`);
    const headers = [];
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon) : '';
      if (!TOKEN.test(name)) throw new Error(`malformed header line ${JSON.stringify(line.slice(0, 80))}`);
      headers.push([name, line.slice(colon + 1).trim()]);
    }
    return { status: Number(status[1]), statusText: status[2] ?? '', headers };
  }

  startBody({ status, headers }) {
    const get = (name) => headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
    if (this.forHead || status === 204 || status === 304) return this.finish();
    if (get('transfer-encoding').some((v) => /chunked/i.test(v))) {
      this.state = 'chunk-size';
      return;
    }
    const lengths = [...new Set(get('content-length'))];
    if (lengths.length > 1) throw new Error('conflicting Content-Length headers');
    if (lengths.length === 1) {
      if (!/^\d{1,15}$/.test(lengths[0])) throw new Error(`bad Content-Length ${JSON.stringify(lengths[0])}`);
      this.remaining = Number(lengths[0]);
      this.state = 'length';
      return;
    }
    this.state = 'close';
  }
}

// The headers a browser Response may carry, from a parsed head: the
// framing headers are dropped (the parser decoded the framing).
export function responseHeaders(head) {
  return head.headers.filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase()));
}
