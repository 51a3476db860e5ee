// The browser half of Fetch / HttpEndpoint / HttpBody (the kernel's
// caps/http.rs). The kernel has checked each request already; this file
// runs it with `fetch`, hands the head back, then the body a chunk at a
// time when the kernel asks for the next one, and says what went wrong in
// words a person can act on (CORS, a redirect, a timeout, the network).

export class HttpHost {
  // `reply(action)` runs `action(kernel)` unless the kernel is gone.
  constructor(reply) {
    this.reply = reply;
    this.open = new Map(); // id -> { controller, reader, timer }
  }

  start(id, request, body) {
    const exchange = { controller: new AbortController(), reader: null, timer: null, timedOut: false };
    this.open.set(id, exchange);
    let url;
    try {
      url = new URL(request.url, self.location.href);
    } catch {
      return this.fail(id, 'invalid', `${request.url} is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return this.fail(id, 'invalid', `${url.protocol} URLs are not fetched (only http and https)`);
    }
    const origin = request.endpointOrigin;
    // The kernel checked the origin with its parser; this checks it again with the browser's.
    if (origin != null && url.origin !== origin) {
      return this.fail(id, 'denied', `${url.href} is not on this endpoint's origin ${origin}`);
    }
    exchange.timer = setTimeout(() => {
      exchange.timedOut = true;
      exchange.controller.abort();
    }, request.timeoutMs);
    const init = {
      method: request.method,
      headers: request.headers,
      body: body.length > 0 ? body : undefined,
      // An endpoint cannot follow a redirect it cannot see the target of.
      redirect: origin != null ? 'manual' : 'follow',
      credentials: 'omit',
      cache: 'no-store',
      mode: 'cors',
      signal: exchange.controller.signal,
    };
    fetch(url, init).then(
      (response) => this.head(id, exchange, response, origin),
      (err) => this.failed(id, exchange, url, request, err),
    );
  }

  head(id, exchange, response, origin) {
    clearTimeout(exchange.timer);
    if (!this.open.has(id)) return;
    if (response.type === 'opaqueredirect') {
      return this.fail(id, 'denied', `${origin} answered with a redirect, which an HttpEndpoint refuses: `
        + `the browser hides where a redirect points, so it could not be checked to stay on ${origin}`);
    }
    if (origin != null && new URL(response.url).origin !== origin) {
      return this.fail(id, 'denied', `the response came from ${response.url}, not from ${origin}`);
    }
    exchange.reader = response.body ? response.body.getReader() : null;
    const headers = [];
    for (const [name, value] of response.headers) headers.push(name, value);
    this.reply((k) => k.httpHead(id, response.status, response.statusText, response.url, response.redirected, headers));
  }

  // The next chunk of the body, or its end. Empty chunks are skipped.
  pull(id) {
    const exchange = this.open.get(id);
    if (!exchange) return;
    if (!exchange.reader) {
      this.open.delete(id);
      this.reply((k) => k.httpEnd(id));
      return;
    }
    exchange.reader.read().then(
      ({ done, value }) => {
        if (!this.open.has(id)) return;
        if (done) {
          this.open.delete(id);
          this.reply((k) => k.httpEnd(id));
        } else if (value.length === 0) {
          this.pull(id);
        } else {
          this.reply((k) => k.httpChunk(id, value));
        }
      },
      (err) => {
        if (!this.open.has(id)) return;
        this.fail(id, 'network', `the connection failed while the body was being read: ${err?.message || err}`);
      },
    );
  }

  cancel(id) {
    const exchange = this.open.get(id);
    if (!exchange) return;
    this.open.delete(id);
    clearTimeout(exchange.timer);
    exchange.controller.abort();
    exchange.reader?.cancel().catch(() => {});
  }

  fail(id, kind, message) {
    const exchange = this.open.get(id);
    if (!exchange) return;
    this.open.delete(id);
    clearTimeout(exchange.timer);
    this.reply((k) => k.hostFailed(id, kind, message));
  }

  // fetch() rejected: a timeout, or a TypeError that the browser gives for
  // CORS and for network failures alike. A second, no-cors request tells
  // them apart: if the server answers that one, it was CORS.
  async failed(id, exchange, url, request, err) {
    clearTimeout(exchange.timer);
    if (!this.open.has(id)) return;
    if (exchange.timedOut) {
      return this.fail(id, 'timeout', `no response from ${url.origin} within ${request.timeoutMs} ms`);
    }
    if (url.origin !== self.location.origin && await answersWithoutCors(url)) {
      const page = self.location.origin;
      const preflight = request.method !== 'GET' && request.method !== 'HEAD' || request.headers.length > 0
        ? `; for this ${request.method} request with its headers it must also answer the OPTIONS preflight `
          + '(Access-Control-Allow-Methods, Access-Control-Allow-Headers)'
        : '';
      return this.fail(id, 'denied', `CORS: ${url.origin} answered, but did not allow ${page} to read the `
        + `response: the server must send Access-Control-Allow-Origin: ${page} (or *)${preflight}`);
    }
    this.fail(id, 'network', `network error: could not fetch ${url.href} `
      + `(the server is unreachable, refused the connection, or failed TLS): ${err?.message || err}`);
  }
}

// Whether `url`'s server answers a no-cors HEAD (whose response the page
// may not read, so CORS does not apply).
async function answersWithoutCors(url) {
  try {
    await fetch(url, { method: 'HEAD', mode: 'no-cors', credentials: 'omit', cache: 'no-store' });
    return true;
  } catch {
    return false;
  }
}
