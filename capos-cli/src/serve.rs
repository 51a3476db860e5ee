//! A small static server for the demo page: loopback only, with the
//! cross-origin isolation headers SharedArrayBuffer requires.

use crate::exit::{self, Failure};
use crate::site::Site;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread;

const WORKER_THREADS: usize = 4;

pub struct Running {
    server: Arc<tiny_http::Server>,
    pub addr: SocketAddr,
    threads: Vec<thread::JoinHandle<()>>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub fn stop(self) {
        for _ in &self.threads {
            self.server.unblock();
        }
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// Starts serving `site` on 127.0.0.1:`port` (0 picks a free port).
pub fn start(site: Site, port: u16) -> Result<Running, Failure> {
    let server = tiny_http::Server::http(("127.0.0.1", port)).map_err(|e| {
        Failure::new(
            exit::UNAVAILABLE,
            format!("cannot listen on 127.0.0.1:{port}: {e}"),
        )
    })?;
    let addr = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| Failure::new(exit::UNAVAILABLE, "server has no IP address"))?;
    let server = Arc::new(server);
    let site = Arc::new(site);
    let threads = (0..WORKER_THREADS)
        .map(|_| {
            let server = server.clone();
            let site = site.clone();
            thread::spawn(move || {
                while let Ok(request) = server.recv() {
                    respond(&site, request);
                }
            })
        })
        .collect();
    Ok(Running {
        server,
        addr,
        threads,
    })
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes())
        .expect("static header is valid")
}

fn respond(site: &Site, request: tiny_http::Request) {
    let method = request.method().clone();
    let found = match method {
        tiny_http::Method::Get | tiny_http::Method::Head => site.lookup(request.url()),
        _ => {
            let _ = request
                .respond(tiny_http::Response::empty(405).with_header(header("Allow", "GET, HEAD")));
            return;
        }
    };
    let (status, body, kind) = match found {
        Some((body, kind)) => (200, body, kind),
        None => (404, b"not found\n".to_vec(), "text/plain; charset=utf-8"),
    };
    let response = tiny_http::Response::from_data(body)
        .with_status_code(status)
        .with_header(header("Content-Type", kind))
        .with_header(header("Cross-Origin-Opener-Policy", "same-origin"))
        .with_header(header("Cross-Origin-Embedder-Policy", "require-corp"))
        .with_header(header("Cross-Origin-Resource-Policy", "same-origin"))
        .with_header(header("X-Content-Type-Options", "nosniff"))
        .with_header(header("Cache-Control", "no-cache"));
    let _ = request.respond(response);
}

/// `capos serve`: serves until interrupted.
pub fn serve_forever(port: u16) -> Result<u8, Failure> {
    let running = start(Site::discover()?, port)?;
    println!("capOS demo page: {}", running.url());
    println!("(serving on loopback with COOP/COEP; Ctrl-C to stop)");
    for t in running.threads {
        let _ = t.join();
    }
    Ok(exit::OK)
}
