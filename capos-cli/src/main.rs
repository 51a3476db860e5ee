//! `capos`: serve the capOS demo page, and boot manifests in headless
//! Chromium from a terminal.

mod boot;
mod build_site;
mod catalogue;
mod daemon;
mod demo_origins;
mod embedded;
mod exit;
mod mounts;
mod project;
mod run;
mod serve;
mod site;
mod tcplisten;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "capos",
    version,
    about = "capOS in the browser: serve the demo page, boot manifests headless"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the demo page on 127.0.0.1 with COOP/COEP headers.
    Serve {
        /// Port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 8420)]
        port: u16,
    },
    /// Boot a manifest in headless Chromium; stream its console to stdout and
    /// exit with init's exit code.
    ///
    /// Other exit codes: 64 unknown demo or unreadable manifest, 65 the kernel
    /// refused the manifest, 69 the browser or server could not start,
    /// 70 kernel panic, 124 timeout.
    Boot {
        /// A demo name (see `capos list`) or a manifest file (.bin, or .capnp
        /// text defining `const manifest :Manifest`).
        target: String,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 60)]
        timeout: u64,
    },
    /// Run a WASI (wasm32-wasip1) program as a capOS process in headless
    /// Chromium, like `wasmtime run`: its stdout and stderr are this
    /// command's, this command's stdin is its stdin, and its exit code is
    /// this command's. A trap exits 134 with the trap on stderr.
    Run {
        /// Preopen HOST as GUEST (HOST[::GUEST]).
        #[arg(long = "dir", value_name = "HOST[::GUEST]")]
        dirs: Vec<String>,
        /// Set an environment variable for the program.
        #[arg(long = "env", value_name = "KEY=VALUE")]
        env: Vec<String>,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 600)]
        timeout: u64,
        /// Start a program that imports functions capOS does not provide;
        /// calling one traps (without this, such a program does not start).
        #[arg(long)]
        trap_unknown_imports: bool,
        /// Grant a Fetch: HTTP to any URL through the browser (the
        /// `capos_http` imports, QuickJS's fetch(), Python's urlopen).
        #[arg(long)]
        fetch: bool,
        /// Serve each --dir from a persistent store in the browser (opfs or
        /// idb) instead of kernel memory: seeded from the host directory,
        /// every change committed to the store, and what is written back at
        /// exit read back from it. For testing that backend; the stores go
        /// with the run.
        #[arg(long, value_name = "BACKEND")]
        dir_store: Option<String>,
        /// Accept TCP connections on ADDRESS:PORT (a bare PORT: on
        /// 127.0.0.1) and hand each to the program's listening socket for
        /// that port, as wasmtime's --tcplisten does. The sockets are
        /// preopened after the --dir directories.
        #[arg(long = "tcplisten", value_name = "ADDRESS:PORT")]
        tcplisten: Vec<String>,
        /// The program.
        file: String,
        /// Its arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Run a project folder by its language: Python (main.py, __main__.py,
    /// pyproject.toml), JavaScript (package.json, index.js, main.js) or a
    /// compiled .wasm. The folder is preopened at /project and its changes
    /// are written back at exit; what it runs is said on stderr.
    RunProject {
        /// Set an environment variable for the program.
        #[arg(long = "env", value_name = "KEY=VALUE")]
        env: Vec<String>,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 600)]
        timeout: u64,
        /// Grant a Fetch (HTTP through the browser).
        #[arg(long)]
        fetch: bool,
        /// The project folder.
        dir: String,
        /// The program's arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// The background process that keeps a browser up for warm `capos run`s:
    /// `status` (exits 3 when none runs), `start`, `stop`. `capos run` starts
    /// it by itself; it exits after CAPOS_DAEMON_IDLE_S seconds (default 600)
    /// without a run. CAPOS_DAEMON=off makes every run start its own browser.
    Daemon {
        #[arg(value_parser = ["status", "start", "stop", "serve"], hide_possible_values = true)]
        action: String,
    },
    /// List the demo manifests that `boot` and the page can run.
    List,
    /// Write the whole site as static files into OUT (a new or empty
    /// directory), for any static host: its service worker makes the page
    /// cross-origin isolated where the host cannot send COOP/COEP.
    BuildSite { out: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { port } => serve::serve_forever(port),
        Command::Boot { target, timeout } => boot::boot(&target, timeout),
        Command::Run {
            dirs,
            env,
            timeout,
            trap_unknown_imports,
            fetch,
            dir_store,
            tcplisten,
            file,
            args,
        } => run::run(run::RunArgs {
            dirs,
            env,
            timeout,
            trap_unknown_imports,
            fetch,
            file,
            args,
            dir_store,
            tcplisten,
        }),
        Command::Daemon { action } => {
            site::Site::discover().and_then(|site| daemon::command(&site.root, &action))
        }
        Command::BuildSite { out } => build_site::build_site(&out),
        Command::RunProject {
            env,
            timeout,
            fetch,
            dir,
            args,
        } => project::run_project(&dir, args, env, fetch, timeout),
        Command::List => site::Site::discover().map(|site| {
            for name in site.demo_names() {
                println!("{name}");
            }
            exit::OK
        }),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            eprintln!("capos: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
