// The page's link to the service worker's preview: the page says it runs a
// kernel, and hands each connection the worker makes (a MessagePort) to the
// running system's kernel Worker, unread. The page decides nothing: the
// kernel refuses a port nobody listens on.

import { registerForPreview } from '../coi.js';

// `session()` is the running boot, or null.
export async function linkPreview(session) {
  const registration = await registerForPreview();
  if (!registration) return false;
  navigator.serviceWorker.onmessage = (event) => {
    const message = event.data;
    const channel = event.ports?.[0];
    if (message?.type !== 'capos-connect' || !(channel instanceof MessagePort)) return;
    if (!Number.isInteger(message.port) || message.port < 1 || message.port > 65535) {
      channel.postMessage({ t: 'refused', message: 'malformed connection request' });
      return;
    }
    const running = session();
    if (!running) {
      channel.postMessage({ t: 'refused', message: 'no capOS system is running in this tab' });
      return;
    }
    running.connect(message.port, 'preview', channel);
  };
  return true;
}

// Tells the service worker this page runs a kernel (the newest one gets the
// preview's connections), and gives it a port to that kernel Worker: the
// worker then asks it for connections without a hop through this page for
// each (a busy page would add its latency to every request).
export function announceKernel(running) {
  const worker = navigator.serviceWorker?.controller;
  if (!worker || !running) return;
  const channel = new MessageChannel();
  running.connector(channel.port1);
  worker.postMessage({ type: 'capos-kernel-page' }, [channel.port2]);
}
