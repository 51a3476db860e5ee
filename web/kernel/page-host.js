// The host work only the page can do: the clipboard (only the main thread
// may touch it) and showing a display. Requests go to the page as view-model
// messages; the page's answers come back through the kernel Worker's
// validated message channel (kernel-worker.js) to `answer`. An exchange id
// is a number the kernel chose for this request: it names no capability,
// and an answer for an id that is not open is dropped.

export class PageHost {
  // `post(message, transfer)` sends to the page; `reply(action)` runs
  // `action(kernel)` unless the kernel is gone.
  constructor(post, reply) {
    this.post = post;
    this.reply = reply;
    this.open = new Map(); // id -> 'clipboard' | 'display'
  }

  request(id, request, payload) {
    switch (request.op) {
      case 'clipboardRead':
        this.open.set(id, 'clipboard');
        return this.post({ type: 'clipboard', id, op: 'read' });
      case 'clipboardWrite':
        this.open.set(id, 'clipboard');
        return this.post({ type: 'clipboard', id, op: 'write', text: request.text });
      case 'displayOpen':
        this.open.set(id, 'display');
        return this.post({ type: 'displayOpen', id, width: request.width, height: request.height });
      case 'displayFrame': {
        const pixels = payload.slice(); // a view into kernel memory: copy, then hand over
        return this.post({ type: 'displayFrame', id, width: request.width, height: request.height, pixels }, [pixels.buffer]);
      }
      case 'displayClose':
        this.open.delete(id);
        return this.post({ type: 'displayClose', id });
      default:
        return undefined;
    }
  }

  // A validated page message (checkPageMessage has checked its shape).
  answer(message) {
    const kind = this.open.get(message.id);
    switch (message.type) {
      case 'clipboardResult':
        if (kind !== 'clipboard') return;
        this.open.delete(message.id);
        if (!message.ok) this.reply((k) => k.hostFailed(message.id, 'denied', `the page refused: ${message.message}`));
        else if (message.text !== undefined) this.reply((k) => k.clipboardText(message.id, message.text));
        else this.reply((k) => k.hostDone(message.id));
        return;
      case 'displayDrawn':
        if (kind === 'display') this.reply((k) => k.displayDrawn(message.id));
        return;
      case 'displayEvent':
        if (kind !== 'display') return;
        if (message.closed) this.open.delete(message.id);
        this.reply((k) => k.displayEvent(message.id, message.closed, message.width, message.height));
        return;
      default:
        return;
    }
  }
}
