// The preview, in the service worker: a request for /preview/<port>/<path>
// becomes a connection to <port> in the capOS system running in a page of
// this site, carrying the request as HTTP/1.1; the server's bytes are parsed
// back into a Response that streams as they arrive. The page only passes the
// connection's MessagePort to its kernel Worker; it never reads the bytes.

import { PeerConnection } from './peer.js';
import { ResponseParser, requestHead, responseHeaders } from './http1.js';

// The SW buffers a request body before sending it (Chromium gives a service
// worker no request stream): larger ones are refused here.
const MAX_REQUEST_BODY = 64 * 1024 * 1024;
// Bytes of response the browser may hold unread before the server waits.
const RESPONSE_BUFFER = 256 * 1024;

// The headers a preview response carries besides the server's: it is
// embedded in a cross-origin-isolated page, so it must say it may be.
// And no script of it runs: it is served from the capOS site's own origin,
// where a script could reach the site's storage (the persistent stores).
const EMBEDDING = [
  ['Cross-Origin-Embedder-Policy', 'require-corp'],
  ['Cross-Origin-Resource-Policy', 'same-origin'],
  ['Content-Security-Policy', "script-src 'none'; object-src 'none'; worker-src 'none'; base-uri 'none'"],
];

export function errorPage(status, title, detail) {
  const escape = (s) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const body = `<!doctype html><meta charset="utf-8"><title>${escape(title)}</title>`
    + '<style>body{font:15px/1.5 system-ui,sans-serif;margin:2rem;color:#1d2330}</style>'
    + `<h1>${status} ${escape(title)}</h1><p>${escape(detail)}</p>\n`;
  return new Response(body, {
    status,
    headers: [['Content-Type', 'text/html; charset=utf-8'], ['X-Capos-Preview', 'error'], ...EMBEDDING],
  });
}

// The page that hosts a running kernel and will take a connection:
// `connect(port, channel)` asks it. `kernelPages()` lists candidates, newest first.
export async function previewResponse(request, port, target, kernelPages) {
  let body = new Uint8Array(0);
  if (!['GET', 'HEAD'].includes(request.method)) {
    const length = Number(request.headers.get('content-length') ?? 0);
    if (length > MAX_REQUEST_BODY) return errorPage(413, 'Request too large', `The preview carries request bodies up to ${MAX_REQUEST_BODY >> 20} MiB.`);
    body = new Uint8Array(await request.arrayBuffer());
    if (body.length > MAX_REQUEST_BODY) return errorPage(413, 'Request too large', `The preview carries request bodies up to ${MAX_REQUEST_BODY >> 20} MiB.`);
  }
  let connection = null;
  let refusal = 'no page of this site runs a capOS system';
  for (const page of await kernelPages()) {
    const channel = new MessageChannel();
    // A page that has closed never answers: the next one is tried soon.
    const candidate = new PeerConnection(channel.port1, { openWithinMs: 3000 });
    page.postMessage({ type: 'capos-connect', port, peer: 'preview' }, [channel.port2]);
    try {
      await candidate.opened;
      connection = candidate;
      break;
    } catch (err) {
      refusal = err.message;
    }
  }
  if (!connection) return errorPage(502, 'Nothing answers here', `Port ${port}: ${refusal}. Boot a system whose processes listen on it (the webserver demo listens on 8080 and 8081).`);
  const headers = [...request.headers.entries()];
  connection.send(requestHead(request.method, target, headers, `127.0.0.1:${port}`, body.length));
  if (body.length > 0) connection.send(body);
  connection.end();
  return respond(connection, request.method === 'HEAD', port);
}

function respond(connection, head, port) {
  const parser = new ResponseParser({ head });
  return new Promise((resolve) => {
    let controller = null;
    let waiting = []; // acknowledgements held until the reader takes more
    const release = () => {
      while (waiting.length > 0 && controller && controller.desiredSize > 0) waiting.shift()();
    };
    const stream = new ReadableStream({
      start(c) { controller = c; },
      pull() { release(); },
      cancel() { connection.reset('the browser stopped reading the response'); },
    }, new ByteLengthQueuingStrategy({ highWaterMark: RESPONSE_BUFFER }));
    let answered = false;
    parser.onHead = (h) => {
      answered = true;
      if (h.status < 200 || h.status > 599) {
        connection.reset('bad status');
        return resolve(errorPage(502, 'Bad response', `The server on port ${port} answered with status ${h.status}.`));
      }
      try {
        resolve(new Response(head || h.status === 204 || h.status === 304 ? null : stream, {
          status: h.status,
          statusText: h.statusText.replace(/[^\t\x20-\x7e]/g, ''),
          headers: [...responseHeaders(h), ...EMBEDDING],
        }));
      } catch (err) {
        connection.reset('unusable response head');
        resolve(errorPage(502, 'Bad response', `The server on port ${port} sent a head the browser refuses: ${err.message}`));
      }
    };
    parser.onBody = (bytes) => controller.enqueue(bytes);
    parser.onDone = () => {
      try { controller.close(); } catch { /* already cancelled */ }
    };
    parser.onError = (reason) => {
      if (!answered) {
        connection.reset(reason);
        return resolve(errorPage(502, 'Bad response', `The server on port ${port}: ${reason}.`));
      }
      try { controller.error(new Error(reason)); } catch { /* already cancelled */ }
      return undefined;
    };
    connection.onData = (bytes) => {
      parser.feed(bytes);
      if (!controller || controller.desiredSize > 0) return undefined;
      return new Promise((taken) => waiting.push(taken));
    };
    connection.onEnd = () => parser.end();
    connection.onClose = () => {
      parser.end();
      waiting.forEach((taken) => taken());
      waiting = [];
    };
  });
}
