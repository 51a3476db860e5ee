// The client's end of a capOS connection: the MessagePort protocol that
// web/kernel/net-host.js describes, seen from the side that makes the
// connection (the preview ServiceWorker, the CLI's TCP bridge). Bytes for
// the server are handed over only when the kernel pulls them; bytes from
// the server are acknowledged only once the consumer has taken them, so a
// client that stops reading stops the server.

const OPEN_WITHIN_MS = 10_000;

export class PeerConnection {
  // `channel`: this side's MessagePort. Handlers: onData(bytes) returns
  // a promise (or nothing) settled once the bytes are taken; onEnd() (the
  // server finished sending); onClose() (the connection is over).
  // `openWithinMs`: how long the other side may take to say whether the
  // connection is taken (a page that has gone away never says).
  constructor(channel, { openWithinMs = OPEN_WITHIN_MS } = {}) {
    this.channel = channel;
    this.outgoing = []; // chunks waiting for a pull
    this.ended = false; // nothing more after `outgoing`
    this.pulls = 0;
    this.closed = false;
    this.onData = () => {};
    this.onEnd = () => {};
    this.onClose = () => {};
    this.opened = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the kernel did not answer')), openWithinMs);
      this.settleOpen = (error) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
    });
    channel.onmessage = (event) => this.receive(event.data);
  }

  receive(message) {
    if (this.closed) return;
    switch (message?.t) {
      case 'open':
        return this.settleOpen(null);
      case 'refused':
        this.closed = true;
        return this.settleOpen(new Error(String(message.message ?? 'refused')));
      case 'pull':
        this.pulls += 1;
        return this.flush();
      case 'data': {
        if (!(message.bytes instanceof Uint8Array)) return this.reset('the kernel sent a malformed chunk');
        const taken = Promise.resolve(this.onData(message.bytes));
        taken.then(() => { if (!this.closed) this.channel.postMessage({ t: 'sent' }); }, () => {});
        return undefined;
      }
      case 'end':
        return this.onEnd();
      case 'close':
        this.closed = true;
        this.channel.close();
        return this.onClose();
      default:
        return this.reset('the kernel broke the connection protocol');
    }
  }

  // Queues bytes for the server.
  send(bytes) {
    for (let at = 0; at < bytes.length; at += 64 * 1024) this.outgoing.push(bytes.subarray(at, at + 64 * 1024));
    this.flush();
  }

  // Nothing more for the server.
  end() {
    this.ended = true;
    this.flush();
  }

  flush() {
    while (this.pulls > 0 && !this.closed) {
      if (this.outgoing.length > 0) {
        const chunk = this.outgoing.shift().slice();
        this.channel.postMessage({ t: 'data', bytes: chunk }, [chunk.buffer]);
      } else if (this.ended) {
        this.channel.postMessage({ t: 'end' });
      } else {
        return;
      }
      this.pulls -= 1;
    }
  }

  // The client is gone: the server's reads and writes fail.
  reset(message) {
    if (this.closed) return;
    this.closed = true;
    this.channel.postMessage({ t: 'reset', message });
    this.channel.close();
    this.onClose();
  }
}
