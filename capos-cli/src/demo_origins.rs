//! Two loopback origins beside the site, for the `fetch` demo, the tests
//! and the bench, so none of them needs the internet: origin A sends CORS
//! headers (any page may read it), origin B sends none (a page on another
//! origin is refused by CORS). Each answers:
//!
//! - `GET /hello`: one line naming the origin;
//! - `GET /bytes?n=N`: N bytes, byte i being `i % 251` (at most 1 GiB);
//! - `GET /redirect?to=URL`: a 302 to URL;
//! - `POST /echo` (or PUT): the request body back (at most 16 MiB);
//! - `GET /slow?ms=N`: a line after N ms (at most 60 s);
//! - `OPTIONS`: the CORS preflight (A allows everything, B nothing).
//!
//! One request per connection: this is a test fixture, not the site.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

const MAX_BODY: usize = 16 * 1024 * 1024;
const MAX_BYTES: u64 = 1 << 30;

/// Both origins, started; they serve until the process exits.
pub struct DemoOrigins {
    pub a: SocketAddr,
    pub b: SocketAddr,
    /// A loopback port that was free a moment ago: nobody listens there.
    pub closed: SocketAddr,
}

impl DemoOrigins {
    pub fn start() -> io::Result<Self> {
        let closed = TcpListener::bind(("127.0.0.1", 0))?.local_addr()?;
        Ok(Self {
            a: listen('A', true)?,
            b: listen('B', false)?,
            closed,
        })
    }

    /// What the site serves at `/demo-http/origins.json`.
    pub fn json(&self) -> String {
        format!(
            "{{\"a\":\"http://{}\",\"b\":\"http://{}\",\"closed\":\"http://{}\"}}\n",
            self.a, self.b, self.closed
        )
    }
}

fn listen(name: char, cors: bool) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    let addr = listener.local_addr()?;
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            thread::spawn(move || {
                let _ = serve(stream, name, cors);
            });
        }
    });
    Ok(addr)
}

struct Request {
    method: String,
    path: String,
    query: String,
    body: Vec<u8>,
}

fn read_request(reader: &mut impl BufRead) -> Result<Request, (u16, &'static str)> {
    let mut line = String::new();
    reader
        .by_ref()
        .take(8192)
        .read_line(&mut line)
        .map_err(|_| (400, "unreadable request"))?;
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err((400, "malformed request line"));
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut length = 0usize;
    for _ in 0..100 {
        let mut header = String::new();
        reader
            .by_ref()
            .take(8192)
            .read_line(&mut header)
            .map_err(|_| (400, "unreadable header"))?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value
                .trim()
                .parse()
                .map_err(|_| (400, "bad Content-Length"))?;
        }
    }
    if length > MAX_BODY {
        return Err((413, "body over 16 MiB"));
    }
    let mut body = vec![0; length];
    reader
        .read_exact(&mut body)
        .map_err(|_| (400, "body shorter than its Content-Length"))?;
    Ok(Request {
        method: method.to_string(),
        path: path.to_string(),
        query: query.to_string(),
        body,
    })
}

fn param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

/// Percent-decoding, enough for a URL passed as `to=`.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn serve(stream: TcpStream, name: char, cors: bool) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    let head = |status: u16, reason: &str, headers: &[(&str, String)], length: u64| {
        let mut text = format!("HTTP/1.1 {status} {reason}\r\n");
        if cors {
            text.push_str("Access-Control-Allow-Origin: *\r\nAccess-Control-Expose-Headers: *\r\n");
        }
        for (n, v) in headers {
            text.push_str(&format!("{n}: {v}\r\n"));
        }
        text.push_str(&format!(
            "Content-Length: {length}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
        ));
        text
    };
    let request = match read_request(&mut reader) {
        Ok(r) => r,
        Err((status, why)) => {
            let text = head(status, "Bad Request", &[], why.len() as u64 + 1);
            out.write_all(format!("{text}{why}\n").as_bytes())?;
            return Ok(());
        }
    };
    let plain = ("Content-Type", "text/plain; charset=utf-8".to_string());
    match (request.method.as_str(), request.path.as_str()) {
        ("OPTIONS", _) => {
            let allow = if cors {
                vec![
                    (
                        "Access-Control-Allow-Methods",
                        "GET, HEAD, POST, PUT, DELETE".to_string(),
                    ),
                    ("Access-Control-Allow-Headers", "*".to_string()),
                ]
            } else {
                Vec::new()
            };
            out.write_all(head(204, "No Content", &allow, 0).as_bytes())?;
        }
        ("GET" | "HEAD", "/hello") => {
            let body = format!("hello from origin {name}\n");
            out.write_all(head(200, "OK", &[plain], body.len() as u64).as_bytes())?;
            if request.method == "GET" {
                out.write_all(body.as_bytes())?;
            }
        }
        ("GET", "/bytes") => {
            let n = param(&request.query, "n")
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0)
                .min(MAX_BYTES);
            let octets = ("Content-Type", "application/octet-stream".to_string());
            out.write_all(head(200, "OK", &[octets], n).as_bytes())?;
            let pattern: Vec<u8> = (0..251 * 256).map(|i| (i % 251) as u8).collect();
            let mut sent = 0u64;
            while sent < n {
                let k = (n - sent).min(pattern.len() as u64) as usize;
                out.write_all(&pattern[..k])?;
                sent += k as u64;
            }
        }
        ("GET" | "HEAD", "/redirect") => {
            let to = decode(param(&request.query, "to").unwrap_or("/hello"));
            out.write_all(head(302, "Found", &[("Location", to)], 0).as_bytes())?;
        }
        ("POST" | "PUT", "/echo") => {
            let octets = ("Content-Type", "application/octet-stream".to_string());
            out.write_all(head(200, "OK", &[octets], request.body.len() as u64).as_bytes())?;
            out.write_all(&request.body)?;
        }
        ("GET", "/slow") => {
            let ms = param(&request.query, "ms")
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(1000)
                .min(60_000);
            thread::sleep(Duration::from_millis(ms));
            let body = "slow\n";
            out.write_all(head(200, "OK", &[plain], body.len() as u64).as_bytes())?;
            out.write_all(body.as_bytes())?;
        }
        _ => {
            let body = "not found\n";
            out.write_all(head(404, "Not Found", &[plain], body.len() as u64).as_bytes())?;
            out.write_all(body.as_bytes())?;
        }
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(addr: SocketAddr, raw: &str) -> String {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(raw.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn a_sends_cors_headers_and_b_does_not() {
        let o = DemoOrigins::start().unwrap();
        let a = get(o.a, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(a.contains("Access-Control-Allow-Origin: *"));
        assert!(a.ends_with("hello from origin A\n"));
        let b = get(o.b, "GET /hello HTTP/1.1\r\n\r\n");
        assert!(!b.contains("Access-Control"));
        let echo = get(o.a, "POST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
        assert!(echo.ends_with("\r\n\r\nabc"));
        let r = get(o.a, "GET /redirect?to=http%3A%2F%2Fx%2Fy HTTP/1.1\r\n\r\n");
        assert!(r.contains("Location: http://x/y\r\n"));
        assert!(o.json().contains(&format!("\"b\":\"http://{}\"", o.b)));
    }
}
