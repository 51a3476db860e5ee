//! `capos run --tcplisten ADDR`: real TCP on the host, forwarded into the
//! program. The port is bound here, before the boot (a port in use fails
//! the run at once); the program is granted a Listener for the same port
//! number, and each TCP connection accepted here becomes a connection to it
//! in the kernel, carried over the run's line channel through the page
//! (web/net/bridge.js, which passes the bytes on unread).
//!
//! This side speaks the connection protocol web/kernel/net-host.js
//! describes, as the client's end: bytes from the TCP peer go to the kernel
//! only when it pulls them, and bytes from the program are acknowledged
//! only once written to the TCP socket, so a TCP client that stops reading
//! stops the program's writes, and nothing is buffered without bound.

use crate::exit::{self, Failure};
use base64::Engine as _;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};

/// Where lines for the page go: the driver's stdin, or the daemon's socket.
pub type Sink = Arc<Mutex<Box<dyn Write + Send>>>;

/// Most bytes one pull reads from a TCP peer.
const CHUNK: usize = 64 * 1024;

/// Parses `--tcplisten`: `HOST:PORT`, or a bare `PORT` on 127.0.0.1.
pub fn parse(spec: &str) -> Result<SocketAddr, Failure> {
    let usage = || {
        Failure::new(
            exit::USAGE,
            format!("--tcplisten {spec:?}: expected ADDRESS:PORT (e.g. 127.0.0.1:8080) or PORT"),
        )
    };
    let addr = match spec.parse::<u16>() {
        Ok(port) => SocketAddr::from(([127, 0, 0, 1], port)),
        Err(_) => spec.parse::<SocketAddr>().map_err(|_| usage())?,
    };
    Ok(addr)
}

/// What one connection's threads are told by the page.
enum ToPeer {
    /// Bytes for the TCP peer.
    Data(Vec<u8>),
    /// The program shut down its writing.
    End,
    /// The connection is over (after what was sent).
    Close,
}

/// One TCP connection being carried.
struct Carried {
    stream: TcpStream,
    pulls: mpsc::Sender<()>,
    writes: mpsc::Sender<ToPeer>,
}

/// The bound ports and the connections carried through them.
pub struct Hub {
    listeners: Vec<(TcpListener, u16)>,
    conns: Mutex<HashMap<u64, Carried>>,
    next: AtomicU64,
    /// Set once the page's kernel listens: connections wait in the host's
    /// backlog until then rather than being refused.
    ready: (Mutex<bool>, Condvar),
}

impl Hub {
    /// Binds every address; the program's ports are their port numbers.
    pub fn bind(addrs: &[SocketAddr]) -> Result<Arc<Self>, Failure> {
        let mut listeners = Vec::new();
        for addr in addrs {
            let listener = TcpListener::bind(addr).map_err(|e| {
                Failure::new(exit::UNAVAILABLE, format!("cannot listen on {addr}: {e}"))
            })?;
            let port = listener
                .local_addr()
                .map_err(|e| Failure::new(exit::UNAVAILABLE, format!("{addr}: {e}")))?
                .port();
            if listeners.iter().any(|(_, p)| *p == port) {
                return Err(Failure::new(
                    exit::USAGE,
                    format!("--tcplisten: port {port} is named twice"),
                ));
            }
            listeners.push((listener, port));
        }
        Ok(Arc::new(Self {
            listeners,
            conns: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
            ready: (Mutex::new(false), Condvar::new()),
        }))
    }

    /// The ports, for the program's Listeners.
    pub fn ports(&self) -> Vec<u16> {
        self.listeners.iter().map(|(_, port)| *port).collect()
    }

    /// Starts accepting (once the kernel listens), sending to `sink`.
    pub fn start(self: &Arc<Self>, sink: Sink) {
        for i in 0..self.listeners.len() {
            let hub = self.clone();
            let sink = sink.clone();
            std::thread::spawn(move || hub.accept_loop(i, &sink));
        }
    }

    fn accept_loop(&self, index: usize, sink: &Sink) {
        {
            let (lock, ready) = &self.ready;
            let mut on = lock.lock().unwrap_or_else(|e| e.into_inner());
            while !*on {
                on = ready.wait(on).unwrap_or_else(|e| e.into_inner());
            }
        }
        let (listener, port) = &self.listeners[index];
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            self.carry(stream, *port, sink);
        }
    }

    /// The page's kernel is up and listening.
    pub fn ready(&self) {
        let (lock, ready) = &self.ready;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
        ready.notify_all();
    }

    fn carry(&self, stream: TcpStream, port: u16, sink: &Sink) {
        let conn = self.next.fetch_add(1, Ordering::Relaxed);
        let peer = stream
            .peer_addr()
            .map_or_else(|_| "unknown".to_string(), |a| a.to_string());
        let (Ok(reader), Ok(writer)) = (stream.try_clone(), stream.try_clone()) else {
            return;
        };
        let (pulls, pulled) = mpsc::channel();
        let (writes, to_write) = mpsc::channel();
        self.conns.lock().unwrap_or_else(|e| e.into_inner()).insert(
            conn,
            Carried {
                stream,
                pulls,
                writes,
            },
        );
        send(
            sink,
            json!({ "net": { "t": "open", "conn": conn, "port": port, "peer": peer } }),
        );
        let sink_r = sink.clone();
        std::thread::spawn(move || read_side(conn, reader, &pulled, &sink_r));
        let sink_w = sink.clone();
        std::thread::spawn(move || write_side(conn, writer, &to_write, &sink_w));
    }

    /// Events from the page about connections (`kind: "net"`, a `batch`).
    pub fn events(&self, event: &Value) {
        for one in event["batch"].as_array().into_iter().flatten() {
            self.event(one);
        }
    }

    fn event(&self, event: &Value) {
        let Some(conn) = event["conn"].as_u64() else {
            return;
        };
        let mut conns = self.conns.lock().unwrap_or_else(|e| e.into_inner());
        let Some(carried) = conns.get(&conn) else {
            return;
        };
        match event["t"].as_str().unwrap_or("") {
            "pull" => {
                let _ = carried.pulls.send(());
            }
            "data" => {
                let bytes = event["data"]
                    .as_str()
                    .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                    .unwrap_or_default();
                let _ = carried.writes.send(ToPeer::Data(bytes));
            }
            "end" => {
                let _ = carried.writes.send(ToPeer::End);
            }
            "close" => {
                let _ = carried.writes.send(ToPeer::Close);
                conns.remove(&conn);
            }
            "refused" => {
                // Nothing takes it (the program released its listener, or
                // the system halted): the TCP client sees the connection closed.
                let _ = carried.stream.shutdown(Shutdown::Both);
                conns.remove(&conn);
            }
            _ => {}
        }
    }
}

fn send(sink: &Sink, line: Value) {
    let mut out = sink.lock().unwrap_or_else(|e| e.into_inner());
    let _ = crate::boot::write_json_line(&mut *out, &line);
    let _ = out.flush();
}

/// Reads from the TCP peer, one chunk per pull.
fn read_side(conn: u64, mut stream: TcpStream, pulled: &mpsc::Receiver<()>, sink: &Sink) {
    let mut buf = vec![0u8; CHUNK];
    while pulled.recv().is_ok() {
        match stream.read(&mut buf) {
            Ok(0) => {
                send(sink, json!({ "net": { "t": "end", "conn": conn } }));
                return;
            }
            Ok(n) => {
                let data = base64::engine::general_purpose::STANDARD.encode(&buf[..n]);
                send(
                    sink,
                    json!({ "net": { "t": "data", "conn": conn, "data": data } }),
                );
            }
            Err(e) => {
                let message = format!("the TCP client's connection failed: {e}");
                send(
                    sink,
                    json!({ "net": { "t": "reset", "conn": conn, "message": message } }),
                );
                return;
            }
        }
    }
}

/// Writes the program's bytes to the TCP peer, acknowledging them: once
/// for everything written in one go (each line to the page is a round trip
/// through the browser driver).
fn write_side(conn: u64, mut stream: TcpStream, to_write: &mpsc::Receiver<ToPeer>, sink: &Sink) {
    while let Ok(first) = to_write.recv() {
        let mut written = 0u64;
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                ToPeer::Data(bytes) => {
                    if let Err(e) = stream.write_all(&bytes) {
                        let message = format!("the TCP client is gone: {e}");
                        send(
                            sink,
                            json!({ "net": { "t": "reset", "conn": conn, "message": message } }),
                        );
                        return;
                    }
                    written += 1;
                }
                ToPeer::End => {
                    let _ = stream.shutdown(Shutdown::Write);
                }
                ToPeer::Close => {
                    let _ = stream.shutdown(Shutdown::Both);
                    return;
                }
            }
            next = to_write.try_recv().ok();
        }
        if written > 0 {
            send(
                sink,
                json!({ "net": { "t": "sent", "conn": conn, "count": written } }),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_a_socket_address_or_a_loopback_port() {
        assert_eq!(
            parse("8080").unwrap(),
            "127.0.0.1:8080".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(
            parse("0.0.0.0:81").unwrap(),
            "0.0.0.0:81".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(parse("[::1]:9").unwrap().port(), 9);
        for bad in ["", "localhost:80", "1.2.3.4", "70000", "x:1"] {
            assert_eq!(parse(bad).unwrap_err().code, exit::USAGE, "{bad}");
        }
    }

    #[test]
    fn a_port_in_use_fails_before_anything_runs() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let err = Hub::bind(&[addr]).err().expect("refused");
        assert_eq!(err.code, exit::UNAVAILABLE);
        assert!(err.message.contains("cannot listen on"), "{}", err.message);
    }
}
