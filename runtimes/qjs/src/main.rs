//! `qjs`: QuickJS (quickjs-ng, through rquickjs) as a WASI program.
//!
//! ```text
//! qjs FILE.js [ARGS]    run a script (an ES module if it imports or exports, or ends in .mjs)
//! qjs -e CODE [ARGS]    run CODE
//! qjs                   the REPL: each input's value is echoed; Ctrl-D (end of input) exits
//! qjs -i FILE.js        run the script, then the REPL
//! ```
//! Globals beyond ECMAScript: `console`, `print`, `scriptArgs`, `process` (`argv`, `env`,
//! `exit`, `stdout.write`), a Node-style synchronous `fs` (also `import fs from 'fs'`),
//! `TextEncoder`/`TextDecoder`, and timers. An uncaught error prints its stack to stderr and
//! exits 1. Very deep recursion (a few thousand calls) exhausts the engine's native stack and
//! traps (the process ends, exit 134) rather than throwing a RangeError: QuickJS keeps its frames
//! in wasm locals, so its own stack check never sees them. Everything goes through WASI, so under capOS the program holds exactly the
//! capabilities its process spec grants.

mod http;
mod modules;
mod natives;
mod repl;

use rquickjs::context::EvalOptions;
use rquickjs::{
    CatchResultExt, CaughtError, Context, Ctx, Function, Module, Object, Persistent, Runtime, Value,
};
use std::cell::RefCell;
use std::io::Write;
use std::process::ExitCode;
use std::rc::Rc;

const USAGE: &str = "usage: qjs [-m|--module|--script] [-i] [-e CODE | FILE] [ARGS...]\n\
  -e, --eval CODE   run CODE\n\
  -m, --module      run as an ES module (default for .mjs, and for files that import or export)\n\
      --script      run as a classic script\n\
  -i, --interactive start the REPL after running the script\n\
  -h, --help        this text\n\
  -v, --version     the version\n";

enum Source {
    File(String),
    Eval(String),
    None,
}

struct Options {
    source: Source,
    module: Option<bool>,
    interactive: bool,
    args: Vec<String>,
}

fn parse_args() -> Result<Options, String> {
    let mut argv = std::env::args().skip(1);
    let mut options = Options {
        source: Source::None,
        module: None,
        interactive: false,
        args: Vec::new(),
    };
    while let Some(arg) = argv.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            "-v" | "--version" => {
                println!(
                    "qjs (QuickJS-ng via rquickjs {})",
                    env!("CARGO_PKG_VERSION")
                );
                std::process::exit(0);
            }
            "-e" | "--eval" => {
                let code = argv.next().ok_or("-e needs the code to run")?;
                options.source = Source::Eval(code);
                break;
            }
            "-m" | "--module" => options.module = Some(true),
            "--script" => options.module = Some(false),
            "-i" | "--interactive" => options.interactive = true,
            "--" => {
                if let Some(file) = argv.next() {
                    options.source = Source::File(file);
                }
                break;
            }
            s if s.starts_with('-') && s.len() > 1 => {
                return Err(format!("unknown option {s}"));
            }
            _ => {
                options.source = Source::File(arg);
                break;
            }
        }
    }
    options.args = argv.collect();
    Ok(options)
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprint!("qjs: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("qjs: cannot start QuickJS: {e}");
            return ExitCode::from(70);
        }
    };
    runtime.set_loader(modules::FileModules, modules::FileModules);
    // Rejections nobody handled, as they happen; a later `.catch` takes one back.
    let unhandled: Unhandled = Rc::default();
    let context = match Context::full(&runtime) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("qjs: cannot create a context: {e}");
            return ExitCode::from(70);
        }
    };
    let unhandled_in_tracker = unhandled.clone();
    runtime.set_host_promise_rejection_tracker(Some(Box::new(
        move |ctx: Ctx<'_>, promise: Value<'_>, reason: Value<'_>, handled: bool| {
            let mut list = unhandled_in_tracker.borrow_mut();
            if handled {
                list.retain(|(p, _)| p.clone().restore(&ctx).ok().as_ref() != Some(&promise));
            } else {
                list.push((
                    Persistent::save(&ctx, promise),
                    Persistent::save(&ctx, reason),
                ));
            }
        },
    )));
    let code = context.with(|ctx| run(&ctx, options, &unhandled));
    // Values kept outside the runtime must be gone before it is freed.
    unhandled.borrow_mut().clear();
    runtime.set_host_promise_rejection_tracker(None);
    let _ = std::io::stdout().flush();
    ExitCode::from(code)
}

/// Rejected promises nobody handled yet, with their reasons; a later `.catch` takes one back.
pub(crate) type Unhandled =
    Rc<RefCell<Vec<(Persistent<Value<'static>>, Persistent<Value<'static>>)>>>;

/// The interpreter's own handle on what the prelude built.
pub(crate) struct Shell<'js> {
    inspect: Function<'js>,
    format_error: Function<'js>,
    run_timers: Function<'js>,
}

impl<'js> Shell<'js> {
    pub(crate) fn describe_error(&self, error: Value<'js>) -> String {
        self.format_error
            .call::<_, String>((error,))
            .unwrap_or_else(|_| "Uncaught exception (it could not be shown)".into())
    }

    pub(crate) fn report(&self, caught: CaughtError<'js>) {
        let value = match caught {
            CaughtError::Exception(e) => e.into_value(),
            CaughtError::Value(v) => v,
            CaughtError::Error(e) => {
                eprintln!("{e}");
                return;
            }
        };
        let text = self.describe_error(value);
        eprintln!("{text}");
    }
}

fn run<'js>(ctx: &Ctx<'js>, options: Options, unhandled: &Unhandled) -> u8 {
    let shell = match install_globals(ctx, &options) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("qjs: cannot set up the global scope: {e}");
            return 70;
        }
    };
    run_program(ctx, &shell, options, unhandled)
}

fn run_program<'js>(
    ctx: &Ctx<'js>,
    shell: &Shell<'js>,
    options: Options,
    unhandled: &Unhandled,
) -> u8 {
    let is_repl = matches!(options.source, Source::None) || options.interactive;
    let outcome = match &options.source {
        Source::None => Ok(()),
        Source::Eval(code) => {
            let module = options.module.unwrap_or(false);
            evaluate(ctx, shell, "<eval>", code.as_bytes().to_vec(), module)
        }
        Source::File(path) => match std::fs::read(path) {
            Ok(source) => {
                let module = options
                    .module
                    .unwrap_or_else(|| looks_like_module(path, &source));
                evaluate(ctx, shell, path, source, module)
            }
            Err(e) => {
                eprintln!("qjs: cannot read {path}: {e}");
                return 2;
            }
        },
    };
    if let Err(caught) = outcome {
        shell.report(caught);
        if !is_repl {
            return 1;
        }
    }
    if let Err(code) = event_loop(ctx, shell, unhandled)
        && !is_repl
    {
        return code;
    }
    if is_repl {
        repl::run(ctx, shell, unhandled);
    }
    exit_code(ctx)
}

/// `process.exitCode` if the script set it, else 0.
fn exit_code(ctx: &Ctx<'_>) -> u8 {
    ctx.globals()
        .get::<_, Object>("process")
        .and_then(|p| p.get::<_, Option<i32>>("exitCode"))
        .ok()
        .flatten()
        .map_or(0, |c| c as u8)
}

fn install_globals<'js>(ctx: &Ctx<'js>, options: &Options) -> rquickjs::Result<Shell<'js>> {
    let native = Object::new(ctx.clone())?;
    natives::install(ctx, &native)?;
    let script = match &options.source {
        Source::File(path) => path.clone(),
        Source::Eval(_) | Source::None => String::new(),
    };
    let mut argv = vec!["qjs".to_string()];
    if !script.is_empty() {
        argv.push(script.clone());
    }
    argv.extend(options.args.iter().cloned());
    let mut script_args = vec![script];
    script_args.extend(options.args.iter().cloned());
    native.set("argv", argv)?;
    native.set("scriptArgs", script_args)?;
    ctx.globals().set("__capos_native", native)?;
    let mut eval = EvalOptions::default();
    eval.global = true;
    eval.strict = false;
    eval.filename = Some("<prelude>".into());
    let handle: Object = ctx.eval_with_options(include_str!("prelude.js"), eval)?;
    Ok(Shell {
        inspect: handle.get("inspect")?,
        format_error: handle.get("formatError")?,
        run_timers: handle.get("runTimers")?,
    })
}

/// An ES module if the caller says so, if the file ends in `.mjs`, or if a line starts with
/// `import`/`export` (not `import(`, which scripts may use).
fn looks_like_module(path: &str, source: &[u8]) -> bool {
    if path.ends_with(".mjs") {
        return true;
    }
    if path.ends_with(".cjs") {
        return false;
    }
    String::from_utf8_lossy(source).lines().any(|line| {
        let line = line.trim_start();
        (line.starts_with("import ") || line.starts_with("import{") || line.starts_with("export "))
            && !line.starts_with("import(")
    })
}

fn evaluate<'js>(
    ctx: &Ctx<'js>,
    shell: &Shell<'js>,
    name: &str,
    source: Vec<u8>,
    module: bool,
) -> Result<(), CaughtError<'js>> {
    if module {
        let promise = Module::evaluate(ctx.clone(), name, source).catch(ctx)?;
        // Top-level await: the module's jobs (and timers it awaits) run until it settles.
        loop {
            match promise.result::<Value>() {
                Some(result) => return result.map(drop).catch(ctx),
                None => {
                    if ctx.execute_pending_job() {
                        continue;
                    }
                    match shell.run_timers.call::<_, f64>(()).catch(ctx)? {
                        wait if wait < 0.0 => return Ok(()), // waits on nothing that can come
                        wait => natives::sleep_ms(wait),
                    }
                }
            }
        }
    }
    let mut options = EvalOptions::default();
    options.global = true;
    options.strict = false;
    options.filename = Some(name.to_string());
    ctx.eval_with_options::<Value, _>(source, options)
        .map(drop)
        .catch(ctx)
}

/// Promise jobs and timers until there is nothing left to wait for. `Err(1)` after an
/// uncaught error or an unhandled rejection (already reported).
pub(crate) fn event_loop<'js>(
    ctx: &Ctx<'js>,
    shell: &Shell<'js>,
    unhandled: &Unhandled,
) -> Result<(), u8> {
    loop {
        while ctx.execute_pending_job() {}
        if report_unhandled(ctx, shell, unhandled) {
            return Err(1);
        }
        match shell.run_timers.call::<_, f64>(()).catch(ctx) {
            Err(caught) => {
                shell.report(caught);
                return Err(1);
            }
            Ok(wait) if wait < 0.0 => return Ok(()),
            Ok(wait) => natives::sleep_ms(wait),
        }
    }
}

/// Prints the rejections nobody handled; true if there were any.
pub(crate) fn report_unhandled<'js>(
    ctx: &Ctx<'js>,
    shell: &Shell<'js>,
    unhandled: &Unhandled,
) -> bool {
    let list: Vec<_> = unhandled.borrow_mut().drain(..).collect();
    for (_, reason) in &list {
        let text = reason
            .clone()
            .restore(ctx)
            .map_or_else(|_| "a rejected promise".into(), |r| shell.describe_error(r));
        eprintln!(
            "Uncaught (in promise) {}",
            text.trim_start_matches("Uncaught ")
        );
    }
    !list.is_empty()
}
