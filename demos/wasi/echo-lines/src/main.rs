//! An interactive WASI program: answers each line read from stdin, until end of input or a
//! line saying `quit`. Each read blocks until a line is typed (or piped) in.

use std::io::{self, BufRead, Write};

fn main() -> io::Result<()> {
    let stdin = io::stdin();
    let mut stdout = io::stdout();
    writeln!(
        stdout,
        "echo-lines: type a line; `quit` or end of input (Ctrl-D) ends"
    )?;
    let mut lines = stdin.lock().lines();
    loop {
        write!(stdout, "> ")?;
        stdout.flush()?;
        let Some(line) = lines.next().transpose()? else {
            writeln!(stdout, "\nbye (end of input)")?;
            return Ok(());
        };
        if line.trim() == "quit" {
            writeln!(stdout, "bye")?;
            return Ok(());
        }
        writeln!(stdout, "you said: {line}")?;
    }
}
