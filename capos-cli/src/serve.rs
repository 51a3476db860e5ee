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
pub fn start(site: Arc<Site>, port: u16) -> Result<Running, Failure> {
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
    let threads = (0..WORKER_THREADS)
        .map(|_| {
            let server = server.clone();
            let site = site.clone();
            thread::spawn(move || {
                let log = std::env::var_os("CAPOS_SERVE_LOG").is_some();
                while let Ok(request) = server.recv() {
                    let started = std::time::Instant::now();
                    let url = log.then(|| request.url().to_string());
                    respond(&site, request);
                    if let Some(url) = url {
                        eprintln!("serve: {url} {:?}", started.elapsed());
                    }
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
    let found = match request.method() {
        tiny_http::Method::Get | tiny_http::Method::Head => site.resource(request.url()),
        _ => {
            let _ = request
                .respond(tiny_http::Response::empty(405).with_header(header("Allow", "GET, HEAD")));
            return;
        }
    };
    let Some(resource) = found else {
        let _ = request.respond(with_policy(
            tiny_http::Response::from_data(b"not found\n".to_vec())
                .with_status_code(404)
                .with_header(header("Content-Type", "text/plain; charset=utf-8")),
        ));
        return;
    };
    // Revalidation: the browser keeps its copy (and, for wasm, its compiled
    // code cache) when the file has not changed since.
    let unchanged = resource.etag.as_deref().is_some_and(|etag| {
        request
            .headers()
            .iter()
            .any(|h| h.field.equiv("If-None-Match") && h.value.as_str() == etag)
    });
    let etag = resource.etag.clone();
    let response = if unchanged {
        tiny_http::Response::from_data(Vec::new()).with_status_code(304)
    } else {
        tiny_http::Response::from_data(resource.bytes)
            .with_status_code(200)
            .with_header(header("Content-Type", resource.content_type))
    };
    let mut response = with_policy(response);
    if let Some(etag) = etag {
        response = response.with_header(header("ETag", &etag));
    }
    let _ = request.respond(response);
}

/// Headers on every response: cross-origin isolation (SharedArrayBuffer
/// needs it), no sniffing, and revalidate before reuse.
fn with_policy<R: std::io::Read>(response: tiny_http::Response<R>) -> tiny_http::Response<R> {
    response
        .with_header(header("Cross-Origin-Opener-Policy", "same-origin"))
        .with_header(header("Cross-Origin-Embedder-Policy", "require-corp"))
        .with_header(header("Cross-Origin-Resource-Policy", "same-origin"))
        .with_header(header("X-Content-Type-Options", "nosniff"))
        .with_header(header("Cache-Control", "no-cache"))
}

/// `capos serve`: serves until interrupted.
pub fn serve_forever(port: u16) -> Result<u8, Failure> {
    let running = start(Arc::new(Site::discover()?), port)?;
    println!("capOS demo page: {}", running.url());
    println!("(serving on loopback with COOP/COEP; Ctrl-C to stop)");
    for t in running.threads {
        let _ = t.join();
    }
    Ok(exit::OK)
}
