//! A static file server for WASI preview1: serves the directory named by
//! its first argument (default `/site`) over HTTP/1.1 on the first
//! listening socket among its preopened fds, as `wasmtime run --tcplisten
//! ADDR` or a capOS Listener gives it. Many connections at once, through one `poll_oneoff` loop: a
//! client that stalls never stops the others. Each request is logged on
//! stdout. Standard library only, plus what std does not wrap (poll.rs).
//! It builds natively too (for `make bench`'s reference): then it listens
//! on `STATIC_SERVER_LISTEN`.

mod http;
mod poll;

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// Most connections served at once; more wait in the listener's queue.
const MAX_CONNECTIONS: usize = 48;
/// A connection that neither sends nor takes anything this long is closed.
const IDLE: Duration = Duration::from_secs(30);

/// One connection: reading its request, then writing its response.
struct Connection {
    stream: TcpStream,
    request: Vec<u8>,
    response: Vec<u8>,
    sent: usize,
    last_activity: Instant,
}

fn main() {
    let root = std::env::args().nth(1).unwrap_or_else(|| "/site".into());
    let listener = match poll::listener() {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("static-server: {e}");
            std::process::exit(2);
        }
    };
    let fd = listener.as_raw_fd();
    if let Err(e) = listener.set_nonblocking(true) {
        eprintln!("static-server: fd {fd} cannot be made non-blocking: {e}");
        std::process::exit(2);
    }
    println!("static-server: serving {root} on the socket at fd {fd}");
    let mut connections: BTreeMap<i32, Connection> = BTreeMap::new();
    loop {
        let mut watch = Vec::new();
        if connections.len() < MAX_CONNECTIONS {
            watch.push(poll::Interest::read(listener.as_raw_fd()));
        }
        for (&fd, c) in &connections {
            watch.push(if c.response.is_empty() {
                poll::Interest::read(fd)
            } else {
                poll::Interest::write(fd)
            });
        }
        let ready = match poll::wait(&watch, Duration::from_secs(1)) {
            Ok(ready) => ready,
            Err(e) => {
                eprintln!("static-server: {e}");
                std::process::exit(1);
            }
        };
        for fd in ready {
            if fd == listener.as_raw_fd() {
                accept_all(&listener, &mut connections);
            } else if let Some(c) = connections.get_mut(&fd)
                && !progress(c, &root)
            {
                connections.remove(&fd);
            }
        }
        connections.retain(|_, c| c.last_activity.elapsed() < IDLE);
    }
}

fn accept_all(listener: &TcpListener, connections: &mut BTreeMap<i32, Connection>) {
    while connections.len() < MAX_CONNECTIONS {
        match listener.accept() {
            Ok((stream, _)) => {
                if stream.set_nonblocking(true).is_err() {
                    continue;
                }
                connections.insert(
                    stream.as_raw_fd(),
                    Connection {
                        stream,
                        request: Vec::new(),
                        response: Vec::new(),
                        sent: 0,
                        last_activity: Instant::now(),
                    },
                );
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(e) => {
                eprintln!("static-server: accept failed: {e}");
                return;
            }
        }
    }
}

/// Reads or writes what the connection is ready for; false once it is
/// done (answered, or gone).
fn progress(c: &mut Connection, root: &str) -> bool {
    c.last_activity = Instant::now();
    if c.response.is_empty() {
        let mut buf = [0u8; 8192];
        match c.stream.read(&mut buf) {
            Ok(0) => {
                // The client finished sending: answer what it sent, if anything.
                if c.request.is_empty() {
                    return false;
                }
                c.response = http::respond(&c.request, root, true);
            }
            Ok(n) => {
                c.request.extend_from_slice(&buf[..n]);
                match http::head_end(&c.request) {
                    Some(_) => c.response = http::respond(&c.request, root, false),
                    None if c.request.len() > http::MAX_HEAD => {
                        c.response = http::error(431, "the request head is over 16 KiB");
                    }
                    None => return true,
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(_) => return false,
        }
    }
    while c.sent < c.response.len() {
        match c.stream.write(&c.response[c.sent..]) {
            Ok(0) => return false,
            Ok(n) => c.sent += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(_) => return false,
        }
    }
    // Answered: `Connection: close`, so the client sees the end now.
    let _ = c.stream.shutdown(std::net::Shutdown::Both);
    false
}
