//! `capos boot`: serve the page, open it in headless Chromium through the
//! Node driver (capos-cli/driver/boot.mjs, playwright-core), stream the
//! console to stdout, and exit with init's exit code.

use crate::exit::{self, Failure};
use crate::serve;
use crate::site::Site;
use crate::tcplisten::{Hub, Sink};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

pub const BOOT_PATH: &str = "/boot/manifest.bin";
/// Extra time the driver gets beyond `--timeout` to close the browser.
const DRIVER_GRACE: Duration = Duration::from_secs(20);
/// How long the events may go on once the boot's outcome is known.
const AFTER_OUTCOME: Duration = Duration::from_secs(10);

pub fn boot(target: &str, timeout_s: u64) -> Result<u8, Failure> {
    if timeout_s == 0 {
        return Err(Failure::new(
            exit::USAGE,
            "--timeout must be at least 1 second",
        ));
    }
    let site = Site::discover()?;
    let manifest_param = resolve_target(&site, target)?;
    boot_site(site, &manifest_param, timeout_s, Mode::Boot, "memory", None).map(|done| done.code)
}

/// How a boot ended: init's exit code, and (for `capos run --dir`) the
/// mounted trees as the kernel left them.
pub struct Finished {
    pub code: u8,
    pub filesystems: Option<Value>,
}

/// How a boot relates to the terminal it was started from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `capos boot`: the console to stdout; a non-zero halt is explained.
    Boot,
    /// `capos run`: stdin is forwarded, the two streams kept apart, and
    /// nothing is added to what the program writes.
    Run,
}

/// Serves `site`, boots `manifest_param` in headless Chromium, and returns
/// init's exit code.
pub fn boot_site(
    site: Site,
    manifest_param: &str,
    timeout_s: u64,
    mode: Mode,
    store: &str,
    net: Option<Arc<Hub>>,
) -> Result<Finished, Failure> {
    let driver = site.root.join("capos-cli/driver/boot.mjs");
    let server = serve::start(std::sync::Arc::new(site), 0)?;
    // Nobody looks at the page: the headless one (web/headless.html) has no
    // terminal, inspector or preview (a run reaches its ports over
    // --tcplisten). Persistent directories live in `store` ("memory" unless
    // a run asks for the browser's storage); the profile is this run's alone.
    let url = format!(
        "{}headless.html?manifest={manifest_param}&store={store}",
        server.url()
    );
    let result = drive(&driver, &url, Duration::from_secs(timeout_s), mode, net);
    server.stop();
    result
}

/// A demo name, or a manifest file served at `BOOT_PATH`.
fn resolve_target(site: &Site, target: &str) -> Result<String, Failure> {
    let path = Path::new(target);
    let looks_like_file =
        target.contains('/') || target.ends_with(".bin") || target.ends_with(".capnp");
    if !looks_like_file {
        let valid = !target.is_empty()
            && target.len() <= 64
            && target
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let known = site.demo_names();
        if valid && known.iter().any(|n| n == target) {
            return Ok(target.to_string());
        }
        return Err(Failure::new(
            exit::USAGE,
            format!(
                "unknown demo {target:?}; available: {} (or pass a manifest file path)",
                known.join(", ")
            ),
        ));
    }
    let bytes = if target.ends_with(".capnp") {
        compile_manifest(&site.root, path)?
    } else {
        std::fs::read(path)
            .map_err(|e| Failure::new(exit::USAGE, format!("cannot read manifest {target}: {e}")))?
    };
    site.add_file(BOOT_PATH, bytes);
    Ok(BOOT_PATH.to_string())
}

/// `capnp eval --binary FILE manifest`, with the schema directory importable.
fn compile_manifest(root: &Path, path: &Path) -> Result<Vec<u8>, Failure> {
    let output = Command::new("capnp")
        .arg("eval")
        .arg("--binary")
        .arg("-I")
        .arg(root.join("schema"))
        .arg(path)
        .arg("manifest")
        .output()
        .map_err(|e| Failure::new(exit::UNAVAILABLE, format!("cannot run capnp: {e}")))?;
    if !output.status.success() {
        return Err(Failure::new(
            exit::USAGE,
            format!(
                "cannot compile {}: {}",
                path.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        ));
    }
    Ok(output.stdout)
}

/// The events that decide how a boot ended (`handle_event`).
pub const OUTCOME_KINDS: &[&str] = &[
    "halted",
    "panic",
    "bootError",
    "timeout",
    "fatal",
    "browserError",
    "driverError",
];

/// Why the boot ended.
enum Outcome {
    Halted(i32),
    Failed(Failure),
}

fn drive(
    driver: &Path,
    url: &str,
    timeout: Duration,
    mode: Mode,
    net: Option<Arc<Hub>>,
) -> Result<Finished, Failure> {
    let mut command = Command::new("node");
    command
        .arg(driver)
        .arg(url)
        .arg(timeout.as_millis().to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if mode == Mode::Run {
        command.arg("--stdin").stdin(Stdio::piped());
    } else {
        command.stdin(Stdio::null());
    }
    let mut child = command.spawn().map_err(|e| {
        Failure::new(
            exit::UNAVAILABLE,
            format!("cannot start node for the browser driver: {e}"),
        )
    })?;
    if let Some(driver_stdin) = child.stdin.take() {
        let sink: Sink = Arc::new(Mutex::new(Box::new(driver_stdin)));
        if let Some(net) = &net {
            net.start(sink.clone());
        }
        std::thread::spawn(move || forward_stdin(&sink));
    }
    let lines = read_lines(child.stdout.take().expect("piped stdout"));
    let result = follow(&lines, timeout, mode, net.as_deref(), || {
        stop_driver(&mut child)
    });
    let status = child
        .wait()
        .map_err(|e| Failure::new(exit::UNAVAILABLE, e.to_string()))?;
    result.unwrap_or_else(|| {
        Err(Failure::new(
            exit::UNAVAILABLE,
            format!("the browser driver ended ({status}) without a result"),
        ))
    })
}

/// The lines `reader` yields, from a thread of their own, until it ends.
pub fn read_lines(reader: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(reader).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Follows a boot's events (JSON lines from the driver or the daemon) until
/// they end: prints what the program writes and returns how the boot ended,
/// or `None` if the events stopped without saying. Past `timeout` (and a
/// grace period for the browser to close), calls `give_up`.
pub fn follow(
    lines: &mpsc::Receiver<String>,
    timeout: Duration,
    mode: Mode,
    net: Option<&Hub>,
    give_up: impl FnOnce(),
) -> Option<Result<Finished, Failure>> {
    let mut deadline = Instant::now() + timeout + DRIVER_GRACE;
    let mut outcome = None;
    let mut filesystems = None;
    let mut out = std::io::stdout().lock();
    loop {
        if outcome.is_some() {
            // Decided: what follows is the browser closing, which gets a
            // little time, not the whole timeout.
            deadline = deadline.min(Instant::now() + AFTER_OUTCOME);
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(remaining) {
            Ok(line) => {
                if let Some(o) = handle_event(&line, &mut out, mode, &mut filesystems, net) {
                    outcome.get_or_insert(o);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                give_up();
                outcome.get_or_insert(Outcome::Failed(Failure::new(
                    exit::TIMEOUT,
                    "the browser driver did not finish in time and was stopped",
                )));
                break;
            }
        }
    }
    let _ = out.flush();
    match outcome? {
        Outcome::Halted(code) => Some(Ok(Finished {
            code: code.clamp(0, 255) as u8,
            filesystems,
        })),
        Outcome::Failed(f) => Some(Err(f)),
    }
}

/// Writes `value` as one JSON line in a single write: displayed straight
/// into an unbuffered stream (a socket, a pipe), a `Value` is one write per
/// token, and a 1,000-file snapshot took 200 ms to cross the daemon's socket.
pub fn write_json_line(out: &mut impl Write, value: &Value) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(value)?;
    line.push(b'\n');
    out.write_all(&line)
}

/// Sends this process's stdin to the driver, base64 in JSON lines, then EOF.
pub fn forward_stdin(driver: &Sink) {
    use base64::Engine as _;
    use std::io::Read as _;
    let mut stdin = std::io::stdin().lock();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match stdin.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let data = base64::engine::general_purpose::STANDARD.encode(&buf[..n]);
        let mut out = driver.lock().unwrap_or_else(|e| e.into_inner());
        if write_json_line(&mut *out, &serde_json::json!({ "data": data })).is_err()
            || out.flush().is_err()
        {
            return;
        }
    }
    let mut out = driver.lock().unwrap_or_else(|e| e.into_inner());
    let _ = write_json_line(&mut *out, &serde_json::json!({ "eof": true }));
    let _ = out.flush();
}

/// Stops the driver: SIGTERM first (it closes Chromium), SIGKILL if it hangs.
fn stop_driver(child: &mut Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    for _ in 0..50 {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
}

fn text(event: &Value, key: &str) -> String {
    event
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

/// Prints one driver event; returns the outcome if the boot is over.
fn handle_event(
    line: &str,
    out: &mut impl Write,
    mode: Mode,
    filesystems: &mut Option<Value>,
    net: Option<&Hub>,
) -> Option<Outcome> {
    let Ok(event) = serde_json::from_str::<Value>(line) else {
        eprintln!("capos: driver: {line}");
        return None;
    };
    match event.get("kind").and_then(Value::as_str).unwrap_or("") {
        "console" => {
            // The bytes the program wrote, exactly (base64: JSON has no bytes).
            use base64::Engine as _;
            let Some(data) = event
                .get("data")
                .and_then(Value::as_str)
                .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
            else {
                eprintln!("capos: driver sent console output without base64 data: {line}");
                return None;
            };
            if mode == Mode::Run && event.get("stream").and_then(Value::as_str) == Some("stderr") {
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(&data);
                let _ = err.flush();
            } else {
                let _ = out.write_all(&data);
                let _ = out.flush();
            }
            None
        }
        "halted" => {
            let code = event.get("code").and_then(Value::as_i64).unwrap_or(1);
            let reason = text(&event, "reason");
            if code != 0 && mode == Mode::Boot {
                eprintln!("capos: system halted: {reason}");
            }
            Some(Outcome::Halted(code as i32))
        }
        "panic" => Some(Outcome::Failed(Failure::new(
            exit::KERNEL_PANIC,
            format!("KERNEL PANIC: {}", text(&event, "message")),
        ))),
        "bootError" => Some(Outcome::Failed(Failure::new(
            exit::BAD_MANIFEST,
            format!("boot failed: {}", text(&event, "message")),
        ))),
        "timeout" => Some(Outcome::Failed(Failure::new(
            exit::TIMEOUT,
            format!("timed out: {}", text(&event, "message")),
        ))),
        "fatal" | "browserError" | "driverError" => Some(Outcome::Failed(Failure::new(
            exit::UNAVAILABLE,
            text(&event, "message"),
        ))),
        "runtime" => {
            runtime_progress(&event, &mut std::io::stderr().lock());
            None
        }
        "filesystems" => {
            *filesystems = event.get("mounts").cloned();
            None
        }
        "listening" => {
            if let Some(net) = net {
                net.ready();
            }
            None
        }
        "net" => {
            if let Some(net) = net {
                net.events(&event);
            }
            None
        }
        "pageError" => {
            eprintln!("capos: page error: {}", text(&event, "message"));
            None
        }
        _ => None,
    }
}

/// A runtime loading: a progress line on stderr while it downloads, if
/// stderr is a terminal (redrawn in place, erased when done or failed: the
/// kernel's own account of a failure reaches stderr as the process's).
fn runtime_progress(event: &Value, err: &mut impl Write) {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return;
    }
    let name = text(event, "name");
    let number = |key: &str| event.get(key).and_then(Value::as_f64).unwrap_or(0.0);
    const MB: f64 = 1024.0 * 1024.0;
    let line = match text(event, "phase").as_str() {
        "download" => format!(
            "capos: downloading {name}: {:.1} of {:.1} MB",
            number("loaded") / MB,
            number("total") / MB
        ),
        "verified" => format!("capos: {name}: SHA-256 verified, compiling"),
        // Ready or failed: the line drawn while downloading goes (a cache hit drew none).
        _ if event.get("cached").and_then(Value::as_bool) == Some(true) => return,
        _ => String::new(),
    };
    let _ = write!(err, "\r\x1b[2K{line}");
    let _ = err.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handle_event_boot(line: &str, out: &mut Vec<u8>) -> Option<Outcome> {
        handle_event(line, out, Mode::Boot, &mut None, None)
    }

    #[test]
    fn console_bytes_stream_exactly_and_halt_gives_the_exit_code() {
        let mut out = Vec::new();
        // "hello\n", then the bytes ff 00 c3 (not UTF-8, kept as they are).
        for line in [
            r#"{"kind":"console","pid":1,"data":"aGVsbG8K"}"#,
            r#"{"kind":"console","pid":1,"data":"/wDD"}"#,
        ] {
            assert!(handle_event_boot(line, &mut out).is_none());
        }
        assert_eq!(out, b"hello\n\xff\x00\xc3");
        assert!(matches!(
            handle_event_boot(
                r#"{"kind":"halted","code":3,"reason":"init exited with code 3"}"#,
                &mut out
            ),
            Some(Outcome::Halted(3))
        ));
    }

    #[test]
    fn failures_map_to_documented_codes() {
        let mut out = Vec::new();
        let code = |line: &str, out: &mut Vec<u8>| match handle_event_boot(line, out) {
            Some(Outcome::Failed(f)) => f.code,
            _ => 0,
        };
        assert_eq!(
            code(r#"{"kind":"panic","message":"x"}"#, &mut out),
            exit::KERNEL_PANIC
        );
        assert_eq!(
            code(r#"{"kind":"bootError","message":"x"}"#, &mut out),
            exit::BAD_MANIFEST
        );
        assert_eq!(
            code(r#"{"kind":"timeout","message":"x"}"#, &mut out),
            exit::TIMEOUT
        );
        assert_eq!(
            code(r#"{"kind":"browserError","message":"x"}"#, &mut out),
            exit::UNAVAILABLE
        );
    }

    #[test]
    fn the_outcome_kinds_are_exactly_the_events_that_decide_a_boot() {
        let others = ["console", "filesystems", "processes", "listening"];
        for kind in OUTCOME_KINDS.iter().chain(&others) {
            let line = format!(
                r#"{{"kind":"{kind}","code":0,"message":"m","reason":"r","data":"","mounts":[],"ports":[]}}"#
            );
            let decides = handle_event_boot(&line, &mut Vec::new()).is_some();
            assert_eq!(decides, OUTCOME_KINDS.contains(kind), "{kind}");
        }
    }
}
