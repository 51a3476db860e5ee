// The clipboard, for a process holding the Clipboard capability: the kernel
// asks (a view model: read, or write this text) and the page does it or
// refuses, saying why. Browsers allow it only while the page has focus, and
// reading needs the person's permission.

export async function serveClipboard(message, send) {
  const refuse = (why) => send({ type: 'clipboardResult', id: message.id, ok: false, message: why });
  if (!navigator.clipboard) return refuse('this browser offers no clipboard to the page (it needs a secure context)');
  if (!document.hasFocus()) return refuse('the page does not have focus, and the browser lets a page use the clipboard only then');
  try {
    if (message.op === 'read') {
      const text = await navigator.clipboard.readText();
      send({ type: 'clipboardResult', id: message.id, ok: true, text });
    } else {
      await navigator.clipboard.writeText(message.text);
      send({ type: 'clipboardResult', id: message.id, ok: true });
    }
  } catch (err) {
    refuse(`the browser refused: ${err?.name || 'Error'}: ${err?.message || err}`.slice(0, 4000));
  }
}
