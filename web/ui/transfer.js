// The bar shown while files are read, copied or zipped: "copying into
// /home/x: 120 of 1000".

export function createTransfer(root) {
  const label = root.querySelector('label');
  const bar = root.querySelector('progress');
  return {
    show(text, done, total) {
      root.hidden = false;
      label.textContent = `${text}: ${done} of ${total}`;
      bar.max = Math.max(1, total);
      bar.value = done;
    },
    hide() {
      root.hidden = true;
    },
  };
}
