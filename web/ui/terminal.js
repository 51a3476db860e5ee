// The xterm.js terminal, with a line discipline for input: what is typed is
// echoed and editable until Enter sends the line (Ctrl-D ends the input),
// like a terminal in cooked mode.

import { Terminal } from '/vendor/xterm/lib/xterm.mjs';
import { FitAddon } from '/vendor/xterm-fit/lib/addon-fit.mjs';

export function createTerminal(element) {
  const term = new Terminal({ convertEol: true, fontSize: 14, scrollback: 10000, theme: { background: '#111418' } });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(element);
  fit.fit();
  new ResizeObserver(() => fit.fit()).observe(element);
  let line = '';
  let onLine = () => {};
  let onEnd = () => {};
  term.onData((data) => {
    for (const ch of data) {
      if (ch === '\r' || ch === '\n') {
        term.write('\r\n');
        onLine(`${line}\n`);
        line = '';
      } else if (ch === '\x7f' || ch === '\b') {
        if (line) {
          line = [...line].slice(0, -1).join('');
          term.write('\b \b');
        }
      } else if (ch === '\x04') {
        if (line) onLine(line);
        line = '';
        onEnd();
      } else if (ch >= ' ' || ch === '\t') {
        line += ch;
        term.write(ch);
      }
    }
  });

  return {
    write: (text) => term.write(text),
    reset: () => {
      term.reset();
      line = '';
    },
    // Red, for the error stream.
    writeError: (text) => term.write(`\x1b[31m${text}\x1b[0m`),
    // Where finished lines (and the end of input) go.
    onInput(lineHandler, endHandler) {
      onLine = lineHandler;
      onEnd = endHandler;
    },
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
