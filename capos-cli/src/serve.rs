//! A small static server for the demo page: loopback only, with the
//! cross-origin isolation headers SharedArrayBuffer requires.
//!
//! HTTP/1.1 with keep-alive, one thread per connection. A browser opens a
//! handful of connections and keeps them open; a thread each is cheap, and
//! no connection ever waits for another (tiny_http's pool could leave a new
//! connection queued behind kept-alive ones, which stalled a page load now
//! and then: a module the page imported was never read off its socket).

use crate::demo_origins::DemoOrigins;
use crate::exit::{self, Failure};
use crate::site::Site;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// A connection idle this long is closed (the browser reconnects).
const IDLE: Duration = Duration::from_secs(60);
/// Longest request line or header line, and most header lines.
const MAX_LINE: usize = 8 * 1024;
const MAX_HEADERS: usize = 100;

pub struct Running {
    pub addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    acceptor: thread::JoinHandle<()>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Stops accepting connections. Open ones end when their client closes
    /// them or they idle out; each is its own thread holding only the site.
    pub fn stop(self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which then sees the flag.
        let _ = TcpStream::connect(self.addr);
        let _ = self.acceptor.join();
    }
}

/// Starts serving `site` on 127.0.0.1:`port` (0 picks a free port).
pub fn start(site: Arc<Site>, port: u16) -> Result<Running, Failure> {
    let listener = TcpListener::bind(("127.0.0.1", port)).map_err(|e| {
        Failure::new(
            exit::UNAVAILABLE,
            format!("cannot listen on 127.0.0.1:{port}: {e}"),
        )
    })?;
    let addr = listener
        .local_addr()
        .map_err(|e| Failure::new(exit::UNAVAILABLE, format!("server has no address: {e}")))?;
    let stopping = Arc::new(AtomicBool::new(false));
    let log = RequestLog::from_env().map(Arc::new);
    // The fetch demo's two other origins (tests and the bench use them too).
    let origins: Arc<str> = match DemoOrigins::start() {
        Ok(origins) => origins.json().into(),
        Err(e) => {
            eprintln!("serve: the demo origins could not start ({e}); the fetch demo will say so");
            "{}\n".into()
        }
    };
    let acceptor = {
        let stopping = stopping.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                // A failed accept (the client gave up) costs only that connection.
                let Ok(stream) = stream else { continue };
                let site = site.clone();
                let log = log.clone();
                let origins = origins.clone();
                thread::spawn(move || {
                    let _ = serve_connection(&site, &origins, stream, log.as_deref());
                });
            }
        })
    };
    Ok(Running {
        addr,
        stopping,
        acceptor,
    })
}

/// One request as far as a static server cares.
struct Request {
    method: String,
    target: String,
    keep_alive: bool,
    if_none_match: Option<String>,
    accept_encoding: String,
    /// A body's length: only a `PUT` of a changed file under /hostfs/ has one.
    content_length: u64,
}

/// Why a request could not be read.
enum BadRequest {
    /// The client closed the connection (or idled out) between requests.
    Closed,
    /// Not HTTP/1.x as this server reads it: answered with `status`, then
    /// the connection is closed (where the next request starts is unknown).
    Malformed(u16, &'static str),
}

impl From<io::Error> for BadRequest {
    fn from(_: io::Error) -> Self {
        Self::Closed
    }
}

/// Where `CAPOS_SERVE_LOG` sends a line per request: `1` for stderr, or a
/// file to append to (the tests read it to see what the browser fetched).
enum RequestLog {
    Stderr,
    File(std::sync::Mutex<std::fs::File>),
}

impl RequestLog {
    fn from_env() -> Option<Self> {
        let value = std::env::var_os("CAPOS_SERVE_LOG")?;
        if value.is_empty() || value == "1" {
            return Some(Self::Stderr);
        }
        match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&value)
        {
            Ok(file) => Some(Self::File(std::sync::Mutex::new(file))),
            Err(e) => {
                eprintln!(
                    "serve: cannot open the request log {}: {e}; logging to stderr",
                    std::path::Path::new(&value).display()
                );
                Some(Self::Stderr)
            }
        }
    }

    fn record(&self, line: &str) {
        match self {
            Self::Stderr => eprintln!("serve: {line}"),
            Self::File(file) => {
                // One write per line: lines from connections never interleave.
                let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
                let _ = file.write_all(format!("{line}\n").as_bytes());
            }
        }
    }
}

fn serve_connection(
    site: &Site,
    origins: &str,
    stream: TcpStream,
    log: Option<&RequestLog>,
) -> io::Result<()> {
    stream.set_read_timeout(Some(IDLE))?;
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let request = match read_request(&mut reader) {
            Ok(request) => request,
            Err(BadRequest::Closed) => return Ok(()),
            Err(BadRequest::Malformed(status, why)) => {
                let body = format!("{why}\n").into_bytes();
                write_response(&mut writer, status, &text_headers(), &body, false, false)?;
                // Closing with unread input would reset the connection and
                // could lose the answer: stop writing, then drain a little.
                writer.shutdown(std::net::Shutdown::Write)?;
                writer.set_read_timeout(Some(Duration::from_secs(1)))?;
                let _ = io::copy(&mut reader.take(64 * 1024), &mut io::sink());
                return Ok(());
            }
        };
        let started = Instant::now();
        let (status, headers, body) = if request.method == "PUT" {
            let mut body = (&mut reader).take(request.content_length);
            let status = site.receive_host_file(&request.target, &mut body, request.content_length);
            // What was not read (a refused upload) cannot be left in the way of the next request.
            if body.limit() > 0 {
                let status = if status == 201 { 400 } else { status };
                write_response(&mut writer, status, &text_headers(), b"", false, false)?;
                return Ok(());
            }
            (status, text_headers(), Vec::new())
        } else {
            respond(site, origins, &request)
        };
        let head_only = request.method == "HEAD";
        write_response(
            &mut writer,
            status,
            &headers,
            &body,
            head_only,
            request.keep_alive,
        )?;
        if let Some(log) = log {
            let encoding = headers
                .iter()
                .find(|(name, _)| *name == "Content-Encoding")
                .map_or("identity", |(_, value)| value.as_str());
            log.record(&format!(
                "{} {} {status} {encoding} {:?}",
                request.method,
                request.target,
                started.elapsed()
            ));
        }
        if !request.keep_alive {
            return Ok(());
        }
    }
}

/// One line, without its CRLF; `None` at end of stream before any byte.
fn read_line(reader: &mut impl BufRead) -> Result<Option<String>, BadRequest> {
    let mut line = Vec::new();
    let n = reader
        .by_ref()
        .take(MAX_LINE as u64 + 2)
        .read_until(b'\n', &mut line)?;
    if n == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        return Err(BadRequest::Malformed(
            431,
            "request line or header too long",
        ));
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line)
        .map(Some)
        .map_err(|_| BadRequest::Malformed(400, "request is not text"))
}

fn read_request(reader: &mut impl BufRead) -> Result<Request, BadRequest> {
    // Blank lines before a request are allowed (RFC 9112 2.2).
    let line = loop {
        match read_line(reader)? {
            None => return Err(BadRequest::Closed),
            Some(line) if line.is_empty() => continue,
            Some(line) => break line,
        }
    };
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(BadRequest::Malformed(400, "malformed request line"));
    };
    let http11 = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        _ => {
            return Err(BadRequest::Malformed(
                505,
                "only HTTP/1.0 and 1.1 are served",
            ));
        }
    };
    let mut connection = String::new();
    let mut if_none_match = None;
    let mut accept_encoding = String::new();
    let mut has_body = false;
    let mut content_length = None;
    for i in 0.. {
        let Some(line) = read_line(reader)? else {
            return Err(BadRequest::Closed);
        };
        if line.is_empty() {
            break;
        }
        if i == MAX_HEADERS {
            return Err(BadRequest::Malformed(431, "too many header lines"));
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(BadRequest::Malformed(400, "malformed header line"));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("connection") {
            connection = value.to_ascii_lowercase();
        } else if name.eq_ignore_ascii_case("if-none-match") {
            if_none_match = Some(value.to_string());
        } else if name.eq_ignore_ascii_case("accept-encoding") {
            accept_encoding = value.to_string();
        } else if name.eq_ignore_ascii_case("content-length") {
            content_length = Some(
                value
                    .parse::<u64>()
                    .map_err(|_| BadRequest::Malformed(400, "malformed Content-Length"))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            has_body = true;
        }
    }
    let content_length = content_length.unwrap_or(0);
    // The one body taken: a changed file coming back from a run (read by
    // `Site::receive_host_file`). Anything else is refused unread.
    let upload = method == "PUT"
        && target.starts_with(capos_config::manifest::HOST_FILES_PREFIX)
        && !has_body;
    if has_body || (content_length != 0 && !upload) {
        return Err(BadRequest::Malformed(
            413,
            "request bodies are not accepted here",
        ));
    }
    let keep_alive = if http11 {
        !connection.contains("close")
    } else {
        connection.contains("keep-alive")
    };
    Ok(Request {
        method: method.to_string(),
        target: target.to_string(),
        keep_alive,
        if_none_match,
        accept_encoding,
        content_length,
    })
}

type Headers = Vec<(&'static str, String)>;

fn text_headers() -> Headers {
    vec![("Content-Type", "text/plain; charset=utf-8".into())]
}

/// Status, headers (beyond the policy and framing ones) and body for `request`.
fn respond(site: &Site, origins: &str, request: &Request) -> (u16, Headers, Vec<u8>) {
    if request.method != "GET" && request.method != "HEAD" {
        let mut headers = text_headers();
        headers.push(("Allow", "GET, HEAD".into()));
        return (405, headers, b"only GET and HEAD\n".to_vec());
    }
    if request.target == DEMO_ORIGINS_PATH {
        let headers = vec![("Content-Type", "application/json".into())];
        return (200, headers, origins.as_bytes().to_vec());
    }
    let (status, mut headers, body) = respond_static(site, request);
    if request.target.split(['?', '#']).next() == Some(KERNEL_WORKER_PATH) {
        // The kernel Worker serves Fetch: it may connect to any http(s)
        // origin. Nothing else on the site may.
        headers.push(("Content-Security-Policy", KERNEL_WORKER_CSP.into()));
        // Cross-origin isolated still, but a no-cors request (how the
        // kernel tells a CORS refusal from a network failure) goes without
        // credentials instead of being blocked for want of a CORP header.
        headers.push(("Cross-Origin-Embedder-Policy", "credentialless".into()));
    }
    (status, headers, body)
}

/// A file of the site.
fn respond_static(site: &Site, request: &Request) -> (u16, Headers, Vec<u8>) {
    let Some(resource) = site.resource(&request.target, &request.accept_encoding) else {
        return (404, text_headers(), b"not found\n".to_vec());
    };
    // Revalidation: the browser keeps its copy (and, for wasm, its compiled
    // code cache) when the file has not changed since.
    let unchanged = resource.etag.is_some() && resource.etag == request.if_none_match;
    let tagged = resource.etag.is_some();
    let mut headers = Vec::new();
    if let Some(etag) = resource.etag {
        headers.push(("ETag", etag));
    }
    if unchanged {
        return (304, headers, Vec::new());
    }
    headers.push(("Content-Type", resource.content_type.into()));
    if site.cache_while_served() && tagged {
        // A file of the site, not a run's manifest or host file (those have
        // no tag): see `Site::serve_to_own_browser`.
        headers.push(("Cache-Control", "max-age=31536000, immutable".into()));
    }
    if let Some(encoding) = resource.content_encoding {
        headers.push(("Content-Encoding", encoding.into()));
    }
    if request.target.starts_with("/runtimes/") {
        headers.push(("Vary", "Accept-Encoding".into()));
    }
    (200, headers, resource.bytes)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        304 => "Not Modified",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// What a page of this site may load and run: its own scripts and Workers
/// only (no inline script, no eval; wasm may be compiled), nothing from
/// elsewhere, and it may not be framed by another site. Inline styles stay
/// allowed: xterm.js sets them, and a style grants no authority. `$connect`
/// is where it may connect.
macro_rules! content_security_policy {
    ($connect:literal) => {
        concat!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; ",
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src ",
            $connect,
            "; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
        )
    };
}

/// Every response's policy but the kernel Worker's.
pub const CONTENT_SECURITY_POLICY: &str = content_security_policy!("'self'");
/// The kernel Worker's: the same, but it may connect to any http(s) origin
/// (it performs every Fetch).
pub const KERNEL_WORKER_CSP: &str = content_security_policy!("'self' http: https:");

/// Where the site says which loopback origins the fetch demo may use.
pub const DEMO_ORIGINS_PATH: &str = "/demo-http/origins.json";
const KERNEL_WORKER_PATH: &str = "/kernel/kernel-worker.js";

/// Writes a whole response. Every response carries the cross-origin
/// isolation headers (SharedArrayBuffer needs them), no sniffing, and
/// revalidate-before-reuse.
fn write_response(
    out: &mut impl Write,
    status: u16,
    headers: &Headers,
    body: &[u8],
    head_only: bool,
    keep_alive: bool,
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    let policy = [
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Cross-Origin-Embedder-Policy", "require-corp"),
        ("Cross-Origin-Resource-Policy", "same-origin"),
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        ("X-Content-Type-Options", "nosniff"),
        ("Cache-Control", "no-cache"),
    ];
    // The site's policy, unless the response names its own.
    for (name, value) in policy {
        if !headers.iter().any(|(n, _)| *n == name) {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    // A 304 has no body and says nothing of one.
    if status != 304 {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    let connection = if keep_alive { "keep-alive" } else { "close" };
    head.push_str(&format!("Connection: {connection}\r\n\r\n"));
    out.write_all(head.as_bytes())?;
    if !head_only && status != 304 {
        out.write_all(body)?;
    }
    out.flush()
}

/// `capos serve`: serves until interrupted.
pub fn serve_forever(port: u16) -> Result<u8, Failure> {
    let running = start(Arc::new(Site::discover()?), port)?;
    println!("capOS demo page: {}", running.url());
    println!("(serving on loopback with COOP/COEP; Ctrl-C to stop)");
    let _ = running.acceptor.join();
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> Running {
        let site = Site::with_files(vec![
            ("/index.html".into(), b"<html>".to_vec()),
            ("/a.js".into(), b"export {}".to_vec()),
        ]);
        start(Arc::new(site), 0).unwrap()
    }

    /// Sends `raw` and reads one response (its head, and the body its
    /// Content-Length announces).
    fn exchange(stream: &mut TcpStream, raw: &str) -> String {
        stream.write_all(raw.as_bytes()).unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                head.push_str(&line);
                break;
            }
            head.push_str(&line);
        }
        let len = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .map_or(0, |n| n.parse().unwrap());
        let mut body = vec![0; if raw.starts_with("HEAD") { 0 } else { len }];
        reader.read_exact(&mut body).unwrap();
        head + &String::from_utf8(body).unwrap()
    }

    #[test]
    fn keeps_connections_alive_and_sends_the_isolation_headers() {
        let s = server();
        let mut c = TcpStream::connect(s.addr).unwrap();
        let first = exchange(&mut c, "GET /a.js HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(first.starts_with("HTTP/1.1 200 OK\r\n"), "{first}");
        assert!(first.contains("Cross-Origin-Embedder-Policy: require-corp\r\n"));
        assert!(first.contains(&format!(
            "Content-Security-Policy: {CONTENT_SECURITY_POLICY}\r\n"
        )));
        assert!(CONTENT_SECURITY_POLICY.contains("script-src 'self' 'wasm-unsafe-eval';"));
        assert!(first.contains("Content-Type: text/javascript"));
        assert!(first.ends_with("\r\n\r\nexport {}"), "{first}");
        // The same connection serves the next request.
        let second = exchange(&mut c, "HEAD /index.html HTTP/1.1\r\n\r\n");
        assert!(second.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(second.contains("Content-Length: 6\r\n") && second.ends_with("\r\n\r\n"));
        let missing = exchange(&mut c, "GET /nope HTTP/1.1\r\n\r\n");
        assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
        let post = exchange(&mut c, "DELETE /a.js HTTP/1.1\r\n\r\n");
        assert!(post.starts_with("HTTP/1.1 405") && post.contains("Allow: GET, HEAD"));
        s.stop();
    }

    #[test]
    fn refuses_what_it_cannot_read_and_closes() {
        let s = server();
        for (raw, status) in [
            ("NONSENSE\r\n\r\n", "400"),
            ("GET / HTTP/2.0\r\n\r\n", "505"),
            ("POST /a.js HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", "413"),
            ("GET / HTTP/1.1\r\nno colon here\r\n\r\n", "400"),
        ] {
            let mut c = TcpStream::connect(s.addr).unwrap();
            let reply = exchange(&mut c, raw);
            assert!(
                reply.starts_with(&format!("HTTP/1.1 {status}")),
                "{raw:?}: {reply}"
            );
            assert!(reply.contains("Connection: close"), "{reply}");
        }
        let mut c = TcpStream::connect(s.addr).unwrap();
        let long = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(MAX_LINE + 10));
        assert!(exchange(&mut c, &long).starts_with("HTTP/1.1 431"));
        s.stop();
    }

    #[test]
    fn many_kept_alive_connections_are_all_served() {
        // A browser keeps connections open; a new one must never wait for them.
        let s = server();
        let mut open: Vec<TcpStream> = (0..16)
            .map(|_| TcpStream::connect(s.addr).unwrap())
            .collect();
        for c in &mut open {
            c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let reply = exchange(c, "GET /a.js HTTP/1.1\r\n\r\n");
            assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        }
        s.stop();
    }

    #[test]
    fn revalidation_answers_not_modified() {
        let dir = std::env::temp_dir().join(format!("capos-serve-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("f.js"), "x").unwrap();
        let s = start(Arc::new(Site::with_dir(&dir)), 0).unwrap();
        let mut c = TcpStream::connect(s.addr).unwrap();
        let first = exchange(&mut c, "GET /f.js HTTP/1.1\r\n\r\n");
        let etag = first
            .lines()
            .find_map(|l| l.strip_prefix("ETag: "))
            .unwrap()
            .to_string();
        let again = exchange(
            &mut c,
            &format!("GET /f.js HTTP/1.1\r\nIf-None-Match: {etag}\r\n\r\n"),
        );
        assert!(again.starts_with("HTTP/1.1 304"), "{again}");
        assert!(!again.contains("Content-Length"));
        s.stop();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn only_a_fixed_site_served_to_its_own_browser_is_kept_and_never_a_run_manifest() {
        let dir = std::env::temp_dir().join(format!("capos-serve-keep-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("f.js"), "x").unwrap();
        let cache_control = |site: Site, path: &str| {
            site.add_file("/runs/1/manifest.bin", b"m".to_vec());
            let s = start(Arc::new(site), 0).unwrap();
            let mut c = TcpStream::connect(s.addr).unwrap();
            let reply = exchange(&mut c, &format!("GET {path} HTTP/1.1\r\n\r\n"));
            s.stop();
            assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
            reply
                .lines()
                .find_map(|l| l.strip_prefix("Cache-Control: "))
                .unwrap()
                .to_string()
        };
        assert_eq!(cache_control(Site::with_dir(&dir), "/f.js"), "no-cache");
        let own = || {
            let mut site = Site::with_dir(&dir);
            site.serve_to_own_browser();
            site
        };
        assert_eq!(cache_control(own(), "/f.js"), "max-age=31536000, immutable");
        assert_eq!(cache_control(own(), "/runs/1/manifest.bin"), "no-cache");
        // A checkout's files may change while they are served.
        let mut files = Site::with_files(vec![("/g.js".into(), b"y".to_vec())]);
        files.serve_to_own_browser();
        assert_eq!(cache_control(files, "/g.js"), "no-cache");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
