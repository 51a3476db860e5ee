//! The REPL: reads a line (more while brackets, a template literal or a comment are open),
//! evaluates it as global code so `let`/`const`/functions persist, and echoes the value the way
//! Node's REPL does. An exception is printed and the REPL goes on; end of input (Ctrl-D on a
//! terminal) ends it. Prompts are shown only when stdin is a terminal, so piped input gives
//! just the values.
//!
//! Timers and promise jobs run after each input: a `setTimeout` fires once the next line is
//! entered or input ends (the REPL does not read and wait on timers at the same time).

use crate::{Shell, Unhandled, event_loop, report_unhandled};
use rquickjs::context::EvalOptions;
use rquickjs::{CatchResultExt, Ctx, Value};
use std::io::{BufRead, IsTerminal, Write};

pub(crate) fn run<'js>(ctx: &Ctx<'js>, shell: &Shell<'js>, unhandled: &Unhandled) {
    let interactive = std::io::stdin().is_terminal();
    let mut input = std::io::stdin().lock();
    let mut pending = String::new();
    loop {
        if interactive {
            prompt(if pending.is_empty() { "> " } else { "... " });
        }
        let mut line = Vec::new();
        match input.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => {
                if interactive {
                    println!();
                }
                break;
            }
            Ok(_) => {}
        }
        pending.push_str(&String::from_utf8_lossy(&line));
        if needs_more(&pending) {
            continue;
        }
        let source = std::mem::take(&mut pending);
        if source.trim().is_empty() {
            continue;
        }
        evaluate(ctx, shell, &source);
        while ctx.execute_pending_job() {}
        report_unhandled(ctx, shell, unhandled);
    }
    // What is still scheduled runs once input has ended.
    let _ = event_loop(ctx, shell, unhandled);
}

fn prompt(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn evaluate<'js>(ctx: &Ctx<'js>, shell: &Shell<'js>, source: &str) {
    let mut options = EvalOptions::default();
    options.global = true;
    options.strict = false;
    options.filename = Some("<repl>".into());
    match ctx
        .eval_with_options::<Value, _>(source.as_bytes().to_vec(), options)
        .catch(ctx)
    {
        Ok(value) => {
            let shown = shell
                .inspect
                .call::<_, String>((value,))
                .unwrap_or_else(|_| "(a value that could not be shown)".into());
            println!("{shown}");
        }
        Err(caught) => {
            eprint!("Uncaught ");
            shell.report(caught);
        }
    }
}

/// Whether `source` is unfinished: an open bracket, template literal or block comment.
/// Unterminated '...' and "..." strings are complete (a string cannot span lines: the parser
/// reports it), and so is anything this scan misreads (the parser then says what is wrong).
fn needs_more(source: &str) -> bool {
    #[derive(PartialEq)]
    enum Open {
        Bracket,
        Template,
        TemplateCode, // inside `${ ... }`
    }
    let mut open: Vec<Open> = Vec::new();
    let mut chars = source.chars().peekable();
    let mut in_template = false;
    while let Some(c) = chars.next() {
        if in_template {
            match c {
                '\\' => {
                    chars.next();
                }
                '`' => {
                    in_template = false;
                    open.pop();
                }
                '$' if chars.peek() == Some(&'{') => {
                    chars.next();
                    open.push(Open::TemplateCode);
                    in_template = false;
                }
                _ => {}
            }
            continue;
        }
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut closed = false;
                let mut star = false;
                for c in chars.by_ref() {
                    if star && c == '/' {
                        closed = true;
                        break;
                    }
                    star = c == '*';
                }
                if !closed {
                    return true;
                }
            }
            '\'' | '"' => {
                let mut escaped = false;
                for s in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if s == '\\' {
                        escaped = true;
                    } else if s == c || s == '\n' {
                        break;
                    }
                }
            }
            '`' => {
                open.push(Open::Template);
                in_template = true;
            }
            '(' | '[' | '{' => open.push(Open::Bracket),
            ')' | ']' if open.pop() != Some(Open::Bracket) => return false,
            '}' => match open.pop() {
                Some(Open::Bracket) => {}
                Some(Open::TemplateCode) => in_template = true,
                _ => return false,
            },
            _ => {}
        }
    }
    !open.is_empty()
}

#[cfg(test)]
mod tests {
    use super::needs_more;

    #[test]
    fn open_brackets_templates_and_comments_ask_for_more() {
        assert!(needs_more("function f() {\n"));
        assert!(needs_more("[1,\n2,\n"));
        assert!(needs_more("`line one\n"));
        assert!(needs_more("`a ${ {x: 1}.x"));
        assert!(needs_more("/* comment\n"));
        assert!(!needs_more("function f() {\n  return '}';\n}\n"));
        assert!(!needs_more("`a ${1 + 1} b`\n"));
        assert!(!needs_more("1 + 1 // trailing {\n"));
        assert!(!needs_more("'unterminated\n"));
        assert!(!needs_more(")\n"));
    }
}
