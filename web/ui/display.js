// The display pane: shows the frames a process presents on its Display
// capability (the kernel sends them as view models: size and RGBA pixels),
// and tells the kernel when a frame has been drawn, when the pane changes
// size, and when the person closes it. It holds no capability: the id on
// each message is the kernel's name for this exchange.

const RESIZE_EVERY_MS = 250;

export function createDisplay({ pane, canvas, closeButton, caption }) {
  const context = canvas.getContext('2d');
  let id = null;
  let send = null;
  let lastSize = '';
  let resizeTimer = null;

  const reportSize = () => {
    resizeTimer = null;
    if (id === null) return;
    const width = Math.max(1, Math.min(1920, Math.round(pane.clientWidth)));
    const height = Math.max(1, Math.min(1080, Math.round(pane.clientHeight - caption.offsetHeight)));
    const size = `${width}x${height}`;
    if (size === lastSize) return;
    lastSize = size;
    send({ type: 'displayEvent', id, closed: false, width, height });
  };
  new ResizeObserver(() => {
    if (id !== null && resizeTimer === null) resizeTimer = setTimeout(reportSize, RESIZE_EVERY_MS);
  }).observe(pane);

  closeButton.addEventListener('click', () => {
    if (id === null) return;
    send({ type: 'displayEvent', id, closed: true, width: 0, height: 0 });
    hide();
  });

  function hide() {
    id = null;
    pane.hidden = true;
  }

  return {
    open(message, post) {
      id = message.id;
      send = post;
      lastSize = '';
      canvas.width = message.width;
      canvas.height = message.height;
      caption.textContent = `display ${message.width}×${message.height}`;
      pane.hidden = false;
    },
    frame(message) {
      if (message.id !== id) return;
      if (canvas.width !== message.width || canvas.height !== message.height) {
        canvas.width = message.width;
        canvas.height = message.height;
        caption.textContent = `display ${message.width}×${message.height}`;
      }
      const pixels = new Uint8ClampedArray(message.pixels.buffer, message.pixels.byteOffset, message.pixels.length);
      context.putImageData(new ImageData(pixels, message.width, message.height), 0, 0);
      send({ type: 'displayDrawn', id });
    },
    close(message) {
      if (message.id === id) hide();
    },
    reset: hide,
  };
}
