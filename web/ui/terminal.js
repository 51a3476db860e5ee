// The xterm.js terminal: output only, for now.

import { Terminal } from '/vendor/xterm/lib/xterm.mjs';
import { FitAddon } from '/vendor/xterm-fit/lib/addon-fit.mjs';

export function createTerminal(element) {
  const term = new Terminal({ convertEol: true, fontSize: 14, scrollback: 10000, theme: { background: '#111418' } });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(element);
  fit.fit();
  new ResizeObserver(() => fit.fit()).observe(element);
  return {
    write: (text) => term.write(text),
    line: (text) => term.write(`${text}\n`),
    // What the terminal shows, with soft-wrapped rows joined back into lines.
    text() {
      const buffer = term.buffer.active;
      const lines = [];
      for (let i = 0; i < buffer.length; i++) {
        const line = buffer.getLine(i);
        const text = line.translateToString(true);
        if (line.isWrapped && lines.length) lines[lines.length - 1] += text;
        else lines.push(text);
      }
      while (lines.length && lines.at(-1) === '') lines.pop();
      return lines.join('\n');
    },
  };
}
