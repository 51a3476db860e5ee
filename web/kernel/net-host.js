// The browser half of Listener and Stream (the kernel's caps/net.rs): each
// connection made to the system's ports arrives as a MessagePort, from the
// preview ServiceWorker (web/service-worker.js) or `capos run --tcplisten`
// (web/net/bridge.js), handed over by the page without being read. This
// file carries its bytes to and from the kernel under the kernel's flow
// control. The protocol on the port, both sides (web/net/peer.js is the
// other one):
//   kernel -> peer: {t:'open'} | {t:'refused', message} first, then
//     {t:'pull'}           send your next bytes: one 'data' or an 'end'
//     {t:'data', bytes}    bytes for the client; answer 'sent' once taken
//     {t:'end'}            nothing more for the client (after the data)
//     {t:'close'}          the connection is over (after the data)
//   peer -> kernel:
//     {t:'data', bytes} | {t:'end'}   the answer to a pull
//     {t:'sent'}                      one 'data' was taken by the client
//     {t:'reset', message}            the client is gone
// A peer that breaks the protocol (bytes nobody asked for, a malformed
// message) is treated as gone. The kernel's sends of one turn (each at most
// a ring slot's worth) go to the peer as one 'data': its 'sent' then
// acknowledges all of them.

const MAX_CHUNK = 1 << 20;

export class NetHost {
  // `reply(action)` runs `action(kernel)` unless the kernel is gone.
  constructor(reply) {
    this.reply = reply;
    this.open = new Map(); // exchange id -> { port, pulled }
  }

  // A connection to `port` from `peer` over MessagePort `channel`.
  connect(kernel, port, peer, channel) {
    // The kernel asks for the first bytes while it takes the connection,
    // before its id is known here: those requests wait for it.
    this.early = [];
    let id;
    try {
      id = kernel.netConnect(port, peer);
    } catch (err) {
      channel.postMessage({ t: 'refused', message: String(err?.message ?? err) });
      channel.close();
      return;
    } finally {
      this.early = null;
    }
    const early = this.earlyRequests ?? [];
    this.earlyRequests = null;
    const connection = { port: channel, pulled: false, sends: [], acks: [] };
    this.open.set(id, connection);
    channel.onmessage = (event) => this.fromPeer(id, connection, event.data);
    channel.postMessage({ t: 'open' });
    for (const [earlyId, request] of early) if (earlyId === id) this.request(id, request, new Uint8Array(0));
  }

  fromPeer(id, connection, message) {
    if (this.open.get(id) !== connection) return;
    const t = message?.t;
    if ((t === 'data' || t === 'end') && connection.pulled) {
      if (t === 'data' && !(message.bytes instanceof Uint8Array && message.bytes.length <= MAX_CHUNK)) {
        return this.gone(id, 'the client sent a malformed chunk');
      }
      connection.pulled = false;
      if (t === 'data') this.reply((k) => k.netData(id, message.bytes));
      else this.reply((k) => k.netEnd(id));
      return;
    }
    if (t === 'sent') {
      const count = connection.acks.shift();
      if (count === undefined) return this.gone(id, 'the client acknowledged bytes it was never sent');
      return this.reply((k) => { for (let i = 0; i < count; i++) k.netSent(id); });
    }
    if (t === 'reset') return this.gone(id, typeof message.message === 'string' ? message.message.slice(0, 200) : 'the client is gone');
    return this.gone(id, 'the client broke the connection protocol');
  }

  gone(id, message) {
    const connection = this.open.get(id);
    if (!connection) return;
    this.open.delete(id);
    connection.port.close();
    this.reply((k) => k.hostFailed(id, 'network', message));
  }

  // The kernel's requests for connection `id`. `payload` is a view into
  // kernel memory, valid only during this call.
  request(id, request, payload) {
    const connection = this.open.get(id);
    if (!connection) {
      // Only a pull comes before the connection is known (see connect).
      if (this.early && request.op === 'netPull') (this.earlyRequests ??= []).push([id, request]);
      return;
    }
    switch (request.op) {
      case 'netPull':
        connection.pulled = true;
        return connection.port.postMessage({ t: 'pull' });
      case 'netSend':
        connection.sends.push(payload.slice());
        if (connection.sends.length === 1) queueMicrotask(() => this.flush(connection));
        return undefined;
      case 'netShutdown':
        this.flush(connection);
        return connection.port.postMessage({ t: 'end' });
      case 'netClose':
        this.flush(connection);
        this.open.delete(id);
        connection.port.postMessage({ t: 'close' });
        return connection.port.close();
      default:
        return undefined;
    }
  }

  // The sends of this turn, as one message.
  flush(connection) {
    const { sends } = connection;
    if (sends.length === 0) return;
    let bytes = sends[0];
    if (sends.length > 1) {
      bytes = new Uint8Array(sends.reduce((n, s) => n + s.length, 0));
      let at = 0;
      for (const s of sends) { bytes.set(s, at); at += s.length; }
    }
    connection.acks.push(sends.length);
    connection.sends = [];
    connection.port.postMessage({ t: 'data', bytes }, [bytes.buffer]);
  }

  // The kernel is gone: every client hears so.
  closeAll() {
    for (const connection of this.open.values()) {
      connection.port.postMessage({ t: 'close' });
      connection.port.close();
    }
    this.open.clear();
  }
}
