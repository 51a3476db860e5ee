//! `python`: RustPython with its frozen standard library, started the way CPython's `python`
//! is (`python FILE [ARGS]`, `-c CODE`, `-m MODULE`, and the `>>>` REPL with no arguments).
//! Everything it touches goes through WASI, so under capOS it holds exactly the capabilities
//! its process spec grants: stdio, the directories it was given, a clock and randomness.

use rustpython::{InterpreterBuilder, InterpreterBuilderExt};

fn main() -> std::process::ExitCode {
    rustpython::run(InterpreterBuilder::new().init_stdlib())
}
