//! Warm runs: a per-user background process keeps one headless Chromium up
//! (capos-cli/driver/pool.mjs, with a page standing by) and the site served,
//! so a `capos run` after the first skips starting them. Each run still gets
//! a fresh page in a browser context of its own, with its own kernel and
//! Workers; the daemon only carries bytes between the two.
//!
//! Reachable only by the same user: a Unix socket, mode 0600, in a directory
//! of the user's, mode 0700. A run's manifest is served to the page under a
//! random 128-bit path for the length of the run. The daemon exits by itself
//! after `CAPOS_DAEMON_IDLE_S` (default 600) seconds without a run, or on
//! `capos daemon stop`, and leaves nothing behind. `CAPOS_DAEMON=off` makes
//! every run cold.
//!
//! Client to daemon, on the socket: one JSON line, `{"op":"status"}`,
//! `{"op":"stop"}`, or `{"op":"run","timeoutMs":T,"manifestLen":N}` followed
//! by the manifest's N bytes, then input lines (`{"data":BASE64}`,
//! `{"eof":true}`). Daemon to client: the page's events as JSON lines, as
//! the one-shot driver prints them.

use crate::boot::{self, Finished, Mode};
use crate::exit::{self, Failure};
use crate::serve;
use crate::site::Site;
use capos_config::manifest::MANIFEST_MAX_BYTES;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

const DEFAULT_IDLE: Duration = Duration::from_secs(600);
/// How long a client waits for a daemon it started to answer.
const START_WAIT: Duration = Duration::from_secs(60);

/// Where one build's daemon lives.
pub struct Paths {
    pub socket: PathBuf,
    lock: PathBuf,
    log: PathBuf,
}

/// This user's private directory for daemons: `$XDG_RUNTIME_DIR/capos`, or
/// `/tmp/capos-UID`. Refused unless it is ours and closed to others.
fn private_dir() -> Result<PathBuf, Failure> {
    let unavailable = |why: String| Failure::new(exit::UNAVAILABLE, why);
    let uid = std::fs::metadata("/proc/self")
        .map_err(|e| unavailable(format!("cannot tell who this user is: {e}")))?
        .uid();
    let dir = match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(runtime) if Path::new(&runtime).is_dir() => Path::new(&runtime).join("capos"),
        _ => std::env::temp_dir().join(format!("capos-{uid}")),
    };
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(unavailable(format!("cannot create {}: {e}", dir.display()))),
    }
    let meta = std::fs::symlink_metadata(&dir)
        .map_err(|e| unavailable(format!("{}: {e}", dir.display())))?;
    if !meta.is_dir() || meta.uid() != uid || meta.mode() & 0o077 != 0 {
        return Err(unavailable(format!(
            "{} must be a directory of this user's that no one else can enter",
            dir.display()
        )));
    }
    Ok(dir)
}

/// The daemon for this binary and this site: a different build (or
/// checkout) gets a daemon of its own, and the old one idles out.
pub fn paths(site_root: &Path) -> Result<Paths, Failure> {
    use std::hash::{Hash, Hasher};
    let dir = private_dir()?;
    let exe = std::env::current_exe().unwrap_or_default();
    let mut hasher = std::hash::DefaultHasher::new();
    exe.hash(&mut hasher);
    std::fs::metadata(&exe)
        .and_then(|m| m.modified())
        .ok()
        .hash(&mut hasher);
    site_root.hash(&mut hasher);
    let key = format!("{:016x}", hasher.finish());
    Ok(Paths {
        socket: dir.join(format!("daemon-{key}.sock")),
        lock: dir.join(format!("daemon-{key}.lock")),
        log: dir.join(format!("daemon-{key}.log")),
    })
}

pub fn idle_limit() -> Duration {
    std::env::var("CAPOS_DAEMON_IDLE_S")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|&s| s > 0)
        .map_or(DEFAULT_IDLE, Duration::from_secs)
}

/// Whether warm runs are wanted (`CAPOS_DAEMON=off` says no).
pub fn enabled() -> bool {
    std::env::var("CAPOS_DAEMON").map_or(true, |v| v != "off")
}

// ---- the client side --------------------------------------------------------------------

/// Connects to the running daemon, starting one if there is none.
fn connect_or_start(paths: &Paths) -> Result<UnixStream, Failure> {
    if let Ok(stream) = UnixStream::connect(&paths.socket) {
        return Ok(stream);
    }
    start_daemon(paths)?;
    let deadline = Instant::now() + START_WAIT;
    loop {
        match UnixStream::connect(&paths.socket) {
            Ok(stream) => return Ok(stream),
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => {
                let log = std::fs::read_to_string(&paths.log).unwrap_or_default();
                return Err(Failure::new(
                    exit::UNAVAILABLE,
                    format!(
                        "the capos daemon did not start ({e}); its log says: {}",
                        log.trim()
                    ),
                ));
            }
        }
    }
}

/// Opens (creating it, mode 0600) one of the daemon's files for writing.
fn private_file(path: &Path, truncate: bool) -> Result<File, Failure> {
    OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(truncate)
        .mode(0o600)
        .open(path)
        .map_err(|e| Failure::new(exit::UNAVAILABLE, format!("{}: {e}", path.display())))
}

/// Starts `capos daemon serve` in the background, in a process group of its
/// own (a Ctrl-C at this terminal does not reach it).
fn start_daemon(paths: &Paths) -> Result<(), Failure> {
    let exe = std::env::current_exe()
        .map_err(|e| Failure::new(exit::UNAVAILABLE, format!("cannot find capos itself: {e}")))?;
    let log = private_file(&paths.log, true)?;
    Command::new(exe)
        .args(["daemon", "serve"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .process_group(0)
        .spawn()
        .map_err(|e| Failure::new(exit::UNAVAILABLE, format!("cannot start the daemon: {e}")))?;
    Ok(())
}

/// Runs `manifest` through the daemon (started if need be).
pub fn run(
    site_root: &Path,
    manifest: &[u8],
    host_files: Option<(&str, &[PathBuf], &Path)>,
    timeout: Duration,
    mode: Mode,
    store: &str,
    net: Option<Arc<crate::tcplisten::Hub>>,
) -> Result<Finished, Failure> {
    let paths = paths(site_root)?;
    let mut stream = connect_or_start(&paths)?;
    let lost =
        |e: std::io::Error| Failure::new(exit::UNAVAILABLE, format!("lost the capos daemon: {e}"));
    // The files a --dir left on the host, for the daemon to serve: the
    // daemon runs as this user and reads them where they are.
    let host_files = match host_files {
        Some((secret, files, uploads)) => {
            let paths = files
                .iter()
                .map(|p| {
                    p.to_str().ok_or_else(|| {
                        Failure::new(exit::USAGE, format!("--dir: {} is not UTF-8", p.display()))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let uploads = uploads.to_str().ok_or_else(|| {
                Failure::new(exit::UNAVAILABLE, "the temporary directory is not UTF-8")
            })?;
            json!({ "secret": secret, "paths": paths, "uploads": uploads })
        }
        None => Value::Null,
    };
    let header = json!({
        "op": "run",
        "timeoutMs": timeout.as_millis() as u64,
        "manifestLen": manifest.len(),
        "store": store,
        "hostFiles": host_files,
        // A run relaying TCP hears its page to the end: connection traffic
        // may still be on its way after the outcome.
        "net": net.is_some(),
    });
    boot::write_json_line(&mut stream, &header).map_err(lost)?;
    stream.write_all(manifest).map_err(lost)?;
    if mode == Mode::Run {
        let input = stream.try_clone().map_err(lost)?;
        let sink: crate::tcplisten::Sink = Arc::new(Mutex::new(Box::new(input)));
        if let Some(net) = &net {
            net.start(sink.clone());
        }
        std::thread::spawn(move || boot::forward_stdin(&sink));
    }
    let lines = boot::read_lines(stream.try_clone().map_err(lost)?);
    let result = boot::follow(&lines, timeout, mode, net.as_deref(), || {
        let _ = stream.shutdown(std::net::Shutdown::Both);
    });
    result.unwrap_or_else(|| {
        Err(Failure::new(
            exit::UNAVAILABLE,
            "the capos daemon ended the run without a result",
        ))
    })
}

/// Sends one request line; the daemon's answer, or `None` if none runs.
fn request(paths: &Paths, op: &str) -> Option<Value> {
    let mut stream = UnixStream::connect(&paths.socket).ok()?;
    boot::write_json_line(&mut stream, &json!({ "op": op })).ok()?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).ok()?;
    serde_json::from_str(&line).ok()
}

/// Whether process `pid` still runs (a zombie whose parent has not reaped it
/// yet has finished).
fn alive(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat.rsplit_once(')').map(|(_, rest)| rest.trim_start());
        !state.is_some_and(|s| s.starts_with('Z'))
    })
}

/// `capos daemon status|stop|start`.
pub fn command(site_root: &Path, action: &str) -> Result<u8, Failure> {
    let paths = paths(site_root)?;
    match action {
        "status" => match request(&paths, "status") {
            Some(status) => {
                println!(
                    "running: pid {}, up {} s, {} runs served, {} running now, idle exit after {} s, socket {}",
                    status["pid"],
                    status["uptimeS"],
                    status["runs"],
                    status["active"],
                    status["idleExitS"],
                    paths.socket.display()
                );
                println!("site: {}", site_root.display());
                Ok(exit::OK)
            }
            None => {
                println!("not running");
                Ok(exit::NOT_RUNNING)
            }
        },
        "stop" => {
            let pid = request(&paths, "status").and_then(|s| s["pid"].as_u64());
            let Some(pid) = pid.filter(|_| request(&paths, "stop").is_some()) else {
                println!("not running");
                return Ok(exit::OK);
            };
            // Stopped once its process is gone (it closes the browser first).
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if !alive(pid) {
                    println!("stopped");
                    return Ok(exit::OK);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(Failure::new(
                exit::UNAVAILABLE,
                "the daemon did not stop within 30 s",
            ))
        }
        "start" => {
            drop(connect_or_start(&paths)?);
            println!("running (socket {})", paths.socket.display());
            Ok(exit::OK)
        }
        "serve" => serve_daemon(&paths),
        other => Err(Failure::new(
            exit::USAGE,
            format!("unknown daemon action {other:?}: status, start or stop"),
        )),
    }
}

// ---- the daemon -------------------------------------------------------------------------

/// What the daemon's threads share.
struct Daemon {
    site: Arc<Site>,
    socket: PathBuf,
    lock: PathBuf,
    log: PathBuf,
    /// Commands to the browser pool (gone once it is told to stop).
    pool: Mutex<Option<ChildStdin>>,
    /// The pool's events, routed to the run they belong to.
    routes: Mutex<HashMap<u64, mpsc::Sender<String>>>,
    next_run: AtomicU64,
    runs_served: AtomicU64,
    /// Runs in progress, and when the last one ended.
    activity: Mutex<(u64, Instant)>,
    started: Instant,
    idle: Duration,
}

impl Daemon {
    fn tell_pool(&self, command: &Value) {
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pool) = pool.as_mut() {
            // Input and --tcplisten traffic: one write per command.
            let _ = boot::write_json_line(pool, command);
            let _ = pool.flush();
        }
    }

    fn activity(&self) -> std::sync::MutexGuard<'_, (u64, Instant)> {
        self.activity.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn serve_daemon(paths: &Paths) -> Result<u8, Failure> {
    let unavailable = |why: String| Failure::new(exit::UNAVAILABLE, why);
    // One daemon per build: the lock is held for the daemon's whole life.
    let lock = private_file(&paths.lock, false)?;
    if lock.try_lock().is_err() {
        return Ok(exit::OK); // Another is up (or starting): clients reach that one.
    }
    let mut site = Site::discover()?;
    site.serve_to_own_browser();
    let site = Arc::new(site);
    let server = serve::start(site.clone(), 0)?;
    let driver = site.root.join("capos-cli/driver/pool.mjs");
    let mut pool = Command::new("node")
        .arg(&driver)
        .arg(server.url())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| unavailable(format!("cannot start node for {}: {e}", driver.display())))?;
    let mut events = BufReader::new(pool.stdout.take().expect("piped stdout"));
    let mut first = String::new();
    events
        .read_line(&mut first)
        .map_err(|e| unavailable(format!("the browser pool: {e}")))?;
    if serde_json::from_str::<Value>(&first)
        .ok()
        .and_then(|v| v["kind"].as_str().map(str::to_owned))
        != Some("ready".to_owned())
    {
        let _ = pool.kill();
        return Err(unavailable(format!(
            "the browser pool did not start: {}",
            first.trim()
        )));
    }
    // Bound only once the browser is up: a client that connects gets a run.
    let _ = std::fs::remove_file(&paths.socket);
    let listener = UnixListener::bind(&paths.socket)
        .map_err(|e| unavailable(format!("{}: {e}", paths.socket.display())))?;
    std::fs::set_permissions(&paths.socket, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| unavailable(format!("{}: {e}", paths.socket.display())))?;
    let daemon = Arc::new(Daemon {
        site,
        socket: paths.socket.clone(),
        lock: paths.lock.clone(),
        log: paths.log.clone(),
        pool: Mutex::new(pool.stdin.take()),
        routes: Mutex::default(),
        next_run: AtomicU64::new(1),
        runs_served: AtomicU64::new(0),
        activity: Mutex::new((0, Instant::now())),
        started: Instant::now(),
        idle: idle_limit(),
    });
    let pool = Arc::new(Mutex::new(pool));

    // The pool's events, to the runs they name; the pool ending ends us.
    {
        let daemon = daemon.clone();
        let pool = pool.clone();
        std::thread::spawn(move || {
            for line in events.lines().map_while(Result::ok) {
                let Some(run) = serde_json::from_str::<Value>(&line)
                    .ok()
                    .and_then(|v| v["run"].as_u64())
                else {
                    continue;
                };
                let routes = daemon.routes.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(route) = routes.get(&run) {
                    let _ = route.send(line);
                }
            }
            eprintln!("capos daemon: the browser pool ended");
            shutdown(&daemon, &pool);
        });
    }
    // Idle exit.
    {
        let daemon = daemon.clone();
        let pool = pool.clone();
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(500));
                let (active, since) = *daemon.activity();
                if active == 0 && since.elapsed() >= daemon.idle {
                    shutdown(&daemon, &pool);
                }
            }
        });
    }
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let daemon = daemon.clone();
        let pool = pool.clone();
        std::thread::spawn(move || {
            if let Err(e) = serve_client(&daemon, &pool, stream) {
                eprintln!("capos daemon: a client: {e}");
            }
        });
    }
    Ok(exit::OK)
}

/// Stops the browser (closing the pool's input makes it close Chromium),
/// removes the daemon's files, and exits.
fn shutdown(daemon: &Daemon, pool: &Mutex<Child>) -> ! {
    // A daemon started from now on binds a socket and locks a file of its own.
    for file in [&daemon.socket, &daemon.lock, &daemon.log] {
        let _ = std::fs::remove_file(file);
    }
    let mut pool = pool.lock().unwrap_or_else(|e| e.into_inner());
    // End of input: the pool closes Chromium (and its profile) and exits.
    drop(daemon.pool.lock().unwrap_or_else(|e| e.into_inner()).take());
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if matches!(pool.try_wait(), Ok(Some(_))) {
            std::process::exit(0);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = pool.kill();
    let _ = pool.wait();
    std::process::exit(0);
}

fn serve_client(
    daemon: &Arc<Daemon>,
    pool: &Arc<Mutex<Child>>,
    stream: UnixStream,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut first = String::new();
    reader.read_line(&mut first)?;
    let request: Value = serde_json::from_str(&first).unwrap_or(Value::Null);
    let mut out = stream;
    match request["op"].as_str() {
        Some("status") => {
            let (active, _) = *daemon.activity();
            let status = json!({
                "pid": std::process::id(),
                "uptimeS": daemon.started.elapsed().as_secs(),
                "runs": daemon.runs_served.load(Ordering::Relaxed),
                "active": active,
                "idleExitS": daemon.idle.as_secs(),
            });
            boot::write_json_line(&mut out, &status)
        }
        Some("stop") => {
            boot::write_json_line(&mut out, &json!({ "stopping": true }))?;
            shutdown(daemon, pool)
        }
        Some("run") => serve_run(daemon, &request, reader, out),
        _ => boot::write_json_line(
            &mut out,
            &json!({ "kind": "driverError", "message": "the daemon got a request it does not know" }),
        ),
    }
}

fn serve_run(
    daemon: &Arc<Daemon>,
    request: &Value,
    mut reader: BufReader<UnixStream>,
    mut out: UnixStream,
) -> std::io::Result<()> {
    let len = request["manifestLen"].as_u64().unwrap_or(u64::MAX);
    let timeout_ms = request["timeoutMs"].as_u64().unwrap_or(0);
    // Where the run's persistent directories live (the site's storage is
    // cleared after every run either way).
    let store = ["opfs", "idb"]
        .into_iter()
        .find(|s| request["store"].as_str() == Some(s))
        .unwrap_or("memory");
    if len as usize > MANIFEST_MAX_BYTES || timeout_ms == 0 {
        return boot::write_json_line(
            &mut out,
            &json!({ "kind": "driverError", "message": format!("a run needs a manifest of at most {MANIFEST_MAX_BYTES} bytes and a timeout") }),
        );
    }
    let mut manifest = vec![0u8; len as usize];
    reader.read_exact(&mut manifest)?;

    let id = daemon.next_run.fetch_add(1, Ordering::Relaxed);
    let path = format!("/runs/{}/manifest.bin", secret_hex()?);
    daemon.site.add_file(&path, manifest);
    // A secret of 32 hex digits, chosen by the client, absolute paths, and
    // the client's private directory for the changed files.
    let shared = &request["hostFiles"];
    let uploads = shared["uploads"]
        .as_str()
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let host_files = shared["secret"]
        .as_str()
        .filter(|s| s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .zip(shared["paths"].as_array())
        .zip(uploads)
        .map(|((secret, paths), uploads)| {
            let paths = paths
                .iter()
                // Each keeps its place (its index is its id); one that is
                // not an absolute path is served as nothing.
                .map(|v| {
                    v.as_str()
                        .map(PathBuf::from)
                        .filter(|p| p.is_absolute())
                        .unwrap_or_default()
                })
                .collect();
            let files = crate::site::HostFiles {
                files: paths,
                uploads,
            };
            daemon.site.add_host_files(secret, files);
            secret.to_string()
        });
    let (tx, rx) = mpsc::channel();
    daemon
        .routes
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id, tx);
    daemon.activity().0 += 1;
    daemon.tell_pool(&json!({ "op": "run", "id": id, "manifest": path, "timeoutMs": timeout_ms, "store": store }));

    // The client's input, to the page.
    {
        let daemon = daemon.clone();
        std::thread::spawn(move || {
            for line in reader.lines().map_while(Result::ok) {
                let Ok(message) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                if let Some(data) = message["data"].as_str() {
                    daemon.tell_pool(&json!({ "op": "input", "id": id, "data": data }));
                } else if message["net"].is_object() {
                    daemon.tell_pool(&json!({ "op": "net", "id": id, "net": message["net"] }));
                } else if message["eof"] == true {
                    daemon.tell_pool(&json!({ "op": "eof", "id": id }));
                }
            }
            // The client closed its end: a run still going is cancelled.
            daemon.tell_pool(&json!({ "op": "cancel", "id": id }));
        });
    }
    // The page's events, to the client, until the pool closes the run.
    let mut client_gone = false;
    let mut served = false;
    let relays_net = request["net"] == true;
    for line in rx.iter() {
        let mut event: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        if event["kind"] == "closed" {
            break;
        }
        if let Some(map) = event.as_object_mut() {
            map.remove("run");
        }
        if !client_gone && boot::write_json_line(&mut out, &event).is_err() {
            client_gone = true;
            daemon.tell_pool(&json!({ "op": "cancel", "id": id }));
        }
        // Decided: the client has its outcome and goes (its files written
        // back) while the page closes and the storage is cleared; the pool
        // holds the next run's boot until that is done.
        let decided = event["kind"]
            .as_str()
            .is_some_and(|kind| boot::OUTCOME_KINDS.contains(&kind));
        // Counted before the client hears of it, so it finds the count.
        if decided && !served {
            served = true;
            run_served(daemon);
        }
        if decided && !client_gone && !relays_net {
            client_gone = true;
            let _ = out.shutdown(std::net::Shutdown::Both);
        }
    }
    // Both directions end: the client sees the end of the events, and the
    // thread reading its input wakes up and finishes.
    let _ = out.shutdown(std::net::Shutdown::Both);
    daemon
        .routes
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&id);
    daemon.site.remove_file(&path);
    if let Some(secret) = host_files {
        daemon.site.remove_host_files(&secret);
    }
    if !served {
        run_served(daemon);
    }
    Ok(())
}

/// Counts a run as served (its outcome known, or it ended without one) and
/// no longer running: the idle clock starts again.
fn run_served(daemon: &Daemon) {
    daemon.runs_served.fetch_add(1, Ordering::Relaxed);
    let mut activity = daemon.activity();
    activity.0 -= 1;
    activity.1 = Instant::now();
}

/// 128 random bits as hex, from the kernel's generator.
pub fn secret_hex() -> std::io::Result<String> {
    let mut bytes = [0u8; 16];
    File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
