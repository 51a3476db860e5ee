//! `python`: RustPython with its frozen standard library, started the way CPython's `python`
//! is (`python FILE [ARGS]`, `-c CODE`, `-m MODULE`, and the `>>>` REPL with no arguments).
//! Everything it touches goes through WASI, so under capOS it holds exactly the capabilities
//! its process spec grants: stdio, the directories it was given, a clock and randomness.

use rustpython::{InterpreterBuilder, InterpreterBuilderExt};

fn main() -> std::process::ExitCode {
    // The REPL here is always the basic one (no termios in WASI): without this, every REPL
    // would open with a warning that pyrepl cannot be used.
    if std::env::var_os("PYTHON_BASIC_REPL").is_none() {
        // SAFETY: nothing else runs yet (wasm32-wasip1 has one thread), so no one reads the
        // environment while it changes.
        unsafe { std::env::set_var("PYTHON_BASIC_REPL", "1") };
    }
    rustpython::run(InterpreterBuilder::new().init_stdlib())
}
