//! Serving HTTP/1.1 on the listening socket a WASI program was given (a
//! capOS Listener: `capos run --tcplisten`, or a manifest's `listen`), for
//! the runtimes' `serve(handler)`: QuickJS's and Python's. One request per
//! connection (`Connection: close`), one connection at a time: the handler
//! is the program's, this is the plumbing around it. A request that cannot
//! be read (malformed, a head over 16 KiB, a body over 8 MiB, a client that
//! hangs up) is answered or dropped here and never reaches the handler.

use crate::Failure;
use capos_config::errno::EBADF;

/// One WASI iovec / ciovec: a buffer and its length.
#[repr(C)]
struct IoVec {
    buf: *const u8,
    len: usize,
}

#[link(wasm_import_module = "wasi_snapshot_preview1")]
unsafe extern "C" {
    fn fd_fdstat_get(fd: u32, stat: *mut u8) -> u16;
    fn sock_accept(fd: u32, flags: u16, accepted: *mut u32) -> u16;
    fn sock_recv(
        fd: u32,
        iovs: *const IoVec,
        count: usize,
        flags: u16,
        n: *mut usize,
        out_flags: *mut u16,
    ) -> u16;
    fn sock_send(fd: u32, iovs: *const IoVec, count: usize, flags: u16, n: *mut usize) -> u16;
    fn sock_shutdown(fd: u32, how: u8) -> u16;
    fn fd_close(fd: u32) -> u16;
}

const FILETYPE_SOCKET_STREAM: u8 = 6;
const MAX_HEAD: usize = 16 * 1024;
const MAX_BODY: usize = 8 << 20;

fn failure(errno: u16, what: &str) -> Failure {
    Failure {
        errno,
        message: format!("{what} failed (errno {errno})"),
    }
}

/// The listening socket: the first socket among the fds from 3.
pub struct Listener {
    fd: u32,
}

/// One request, read whole, waiting for its response.
pub struct Request {
    fd: u32,
    pub method: String,
    /// The request target: path and query.
    pub path: String,
    /// `name: value\n` lines, as sent.
    pub headers: String,
    pub body: Vec<u8>,
}

impl Listener {
    pub fn open() -> Result<Self, Failure> {
        for fd in 3..1024 {
            let mut stat = [0u8; 24];
            // SAFETY: `stat` has room for the 24-byte fdstat WASI writes.
            if unsafe { fd_fdstat_get(fd, stat.as_mut_ptr()) } != 0 {
                break;
            }
            if stat[0] == FILETYPE_SOCKET_STREAM {
                return Ok(Self { fd });
            }
        }
        Err(Failure {
            errno: EBADF,
            message: "this process was given no listening socket (capos run --tcplisten, or a manifest's listen grant)".into(),
        })
    }

    /// The next request that can be read; connections that fail before
    /// one is (answered 400, 413 or 431 where there is someone to tell) are
    /// closed and skipped.
    pub fn next(&self) -> Result<Request, Failure> {
        loop {
            let mut fd = 0u32;
            // SAFETY: `fd` is a live local.
            let errno = unsafe { sock_accept(self.fd, 0, &mut fd) };
            if errno != 0 {
                return Err(failure(errno, "accept"));
            }
            match read_request(fd) {
                Ok(request) => return Ok(request),
                Err(Some((status, why))) => {
                    let _ = send_all(
                        fd,
                        &response(status, "text/plain; charset=utf-8", why.as_bytes()),
                    );
                    finish(fd);
                }
                Err(None) => finish(fd),
            }
        }
    }
}

impl Request {
    /// Sends the response (`headers` as `name: value` lines) and closes the
    /// connection.
    pub fn respond(self, status: u16, headers: &str, body: &[u8]) -> Result<(), Failure> {
        let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
        for line in headers.lines().filter(|l| l.contains(':')) {
            let name = line
                .split(':')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if !matches!(
                name.as_str(),
                "content-length" | "connection" | "transfer-encoding"
            ) {
                head.push_str(line.trim_end());
                head.push_str("\r\n");
            }
        }
        head.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        ));
        let mut out = head.into_bytes();
        out.extend_from_slice(body);
        let sent = send_all(self.fd, &out);
        finish(self.fd);
        sent.map_err(|e| failure(e, "send"))
    }
}

fn recv(fd: u32, buf: &mut [u8]) -> Result<usize, u16> {
    let iov = IoVec {
        buf: buf.as_mut_ptr(),
        len: buf.len(),
    };
    let (mut n, mut flags) = (0usize, 0u16);
    // SAFETY: one iovec describing `buf`; the out-pointers are live locals.
    match unsafe { sock_recv(fd, &iov, 1, 0, &mut n, &mut flags) } {
        0 => Ok(n),
        e => Err(e),
    }
}

fn send_all(fd: u32, mut data: &[u8]) -> Result<(), u16> {
    while !data.is_empty() {
        let iov = IoVec {
            buf: data.as_ptr(),
            len: data.len(),
        };
        let mut n = 0usize;
        // SAFETY: one iovec describing `data`; `n` is a live local.
        match unsafe { sock_send(fd, &iov, 1, 0, &mut n) } {
            0 if n > 0 => data = &data[n..],
            0 => return Err(capos_config::errno::EIO),
            e => return Err(e),
        }
    }
    Ok(())
}

fn finish(fd: u32) {
    // SAFETY: plain calls on an fd this module owns.
    unsafe {
        sock_shutdown(fd, 3);
        fd_close(fd);
    }
}

/// Reads a whole request; `Err(Some(status, why))` to refuse it, `Err(None)`
/// when the client went away.
fn read_request(fd: u32) -> Result<Request, Option<(u16, String)>> {
    let mut data = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if data.len() > MAX_HEAD {
            return Err(Some((431, "the request head is over 16 KiB\n".into())));
        }
        match recv(fd, &mut buf) {
            Ok(0) | Err(_) => return Err(None),
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let (Some(method), Some(path), Some(version)) = (first.next(), first.next(), first.next())
    else {
        return Err(Some((400, "malformed request line\n".into())));
    };
    if !version.starts_with("HTTP/1.") || method.is_empty() || !path.starts_with('/') {
        return Err(Some((400, "malformed request line\n".into())));
    }
    let mut headers = String::new();
    let mut length = 0usize;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(Some((400, format!("malformed header line {line:?}\n"))));
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            length = value
                .trim()
                .parse()
                .map_err(|_| Some((400, "bad Content-Length\n".to_string())))?;
        }
        headers.push_str(name.trim());
        headers.push_str(": ");
        headers.push_str(value.trim());
        headers.push('\n');
    }
    if length > MAX_BODY {
        return Err(Some((413, format!("the body is over {MAX_BODY} bytes\n"))));
    }
    let mut body = data[head_end + 4..].to_vec();
    while body.len() < length {
        match recv(fd, &mut buf) {
            Ok(0) | Err(_) => return Err(None),
            Ok(n) => body.extend_from_slice(&buf[..n]),
        }
    }
    body.truncate(length);
    Ok(Request {
        fd,
        method: method.to_string(),
        path: path.to_string(),
        headers,
        body,
    })
}

fn response(status: u16, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reason(status),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        _ => "",
    }
}
