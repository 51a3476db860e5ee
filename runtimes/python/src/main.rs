//! `python`: RustPython with its frozen standard library, started the way CPython's `python`
//! is (`python FILE [ARGS]`, `-c CODE`, `-m MODULE`, and the `>>>` REPL with no arguments).
//! Everything it touches goes through WASI, so under capOS it holds exactly the capabilities
//! its process spec grants: stdio, the directories it was given, a clock and randomness, and
//! (module `capos`) HTTP through a Fetch or HttpEndpoint.

mod capos_http;

use rustpython::{InterpreterBuilder, InterpreterBuilderExt};

fn main() -> std::process::ExitCode {
    // The REPL here is always the basic one (no termios in WASI): without this, every REPL
    // would open with a warning that pyrepl cannot be used.
    if std::env::var_os("PYTHON_BASIC_REPL").is_none() {
        // SAFETY: nothing else runs yet (wasm32-wasip1 has one thread), so no one reads the
        // environment while it changes.
        unsafe { std::env::set_var("PYTHON_BASIC_REPL", "1") };
    }
    let builder = InterpreterBuilder::new().init_stdlib();
    // `import capos`: HTTP through the process's Fetch / HttpEndpoint.
    let http = capos_http::_capos_http::module_def(&builder.ctx);
    let builder = builder
        .add_native_module(http)
        .add_frozen_modules(rustpython_vm::py_freeze!(
            file = "capos.py",
            module_name = "capos"
        ));
    rustpython::run(builder)
}
