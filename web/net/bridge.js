// The page's relay for `capos run --tcplisten`: the CLI accepts real TCP
// connections and speaks the connection protocol (web/kernel/net-host.js)
// as their client, over the driver's channel to this page; each connection
// becomes a MessagePort handed to the kernel Worker. This file only carries
// messages across (base64 on the driver's side, bytes on the port's): it
// reads nothing and decides nothing. What goes to the CLI is sent in
// batches, a few milliseconds' worth at a time: each report is a round trip
// through the browser driver.

import { base64, fromBase64 } from '../shared/bytes.js';

const FROM_CLI = new Set(['open', 'data', 'end', 'sent', 'reset']);

// `connect(port, peer, channel)` hands a connection to the running system
// (false: none runs); `report(event)` sends an event to the CLI.
export function createBridge({ connect, report }) {
  const ports = new Map(); // the CLI's connection number -> this side's MessagePort
  let batch = [];
  let lastFlush = 0;
  const flush = () => {
    lastFlush = performance.now();
    report({ kind: 'net', batch });
    batch = [];
  };
  const relay = (conn, message) => {
    const t = message?.t;
    if (typeof t !== 'string') return;
    // Idle: at the end of this turn (what else is queued joins it); busy:
    // a few milliseconds' worth at a time.
    if (batch.length === 0) setTimeout(flush, performance.now() - lastFlush > 4 ? 0 : 2);
    batch.push({ conn, t, ...(message.bytes instanceof Uint8Array ? { data: base64(message.bytes) } : {}),
      ...(typeof message.message === 'string' ? { message: message.message.slice(0, 200) } : {}) });
    if (t === 'close' || t === 'refused') ports.delete(conn);
  };
  return (message) => {
    const conn = message?.conn;
    if (!Number.isSafeInteger(conn) || conn < 1 || !FROM_CLI.has(message.t)) return;
    if (message.t === 'open') {
      if (ports.has(conn) || !Number.isInteger(message.port) || message.port < 1 || message.port > 65535) return;
      const channel = new MessageChannel();
      ports.set(conn, channel.port1);
      channel.port1.onmessage = (event) => relay(conn, event.data);
      const peer = typeof message.peer === 'string' ? message.peer.slice(0, 64) : 'tcp';
      if (!connect(message.port, peer, channel.port2)) relay(conn, { t: 'refused', message: 'no capOS system is running' });
      return;
    }
    const port = ports.get(conn);
    if (!port) return;
    if (message.t === 'data') {
      if (typeof message.data !== 'string') return;
      const bytes = fromBase64(message.data);
      port.postMessage({ t: 'data', bytes }, [bytes.buffer]);
    } else if (message.t === 'sent') {
      // The CLI acknowledges several chunks at once.
      const count = Number.isSafeInteger(message.count) && message.count > 0 ? message.count : 1;
      for (let i = 0; i < count; i++) port.postMessage({ t: 'sent' });
    } else if (message.t === 'reset') {
      port.postMessage({ t: 'reset', message: String(message.message ?? 'the TCP client is gone') });
      ports.delete(conn);
    } else {
      port.postMessage({ t: message.t });
    }
  };
}
