//! `capos_http`: HTTP for WASI programs, which preview1 has no calls for.
//! A small import module of our own (docs/host-capabilities.md documents
//! it), served by the Fetch and HttpEndpoint capabilities in the CapSet:
//!
//! | import | what it does |
//! |---|---|
//! | `request(method, url, headers, body, timeout_ms, *handle, *status) -> errno` | sends a request; strings and bytes are (ptr, len) pairs |
//! | `headers(handle, buf, len, *size) -> errno` | the response headers as `name: value\n` lines; ENOBUFS (and the size) if `len` is short |
//! | `read(handle, buf, len, *n) -> errno` | the next bytes of the body; `*n == 0` at its end |
//! | `close(handle) -> errno` | forgets the response, cancelling what is left of the body |
//! | `last_error(buf, len, *size) -> errno` | why the last call failed, in words |
//!
//! Which capability serves a URL: an HttpEndpoint whose origin it is on (a
//! path goes to the only endpoint, when there is one), else a Fetch. A
//! program holding neither gets ENOTCAPABLE for everything, and so does a
//! URL no capability it holds may reach.

use crate::app;
use crate::state::Result;
use capos_rt::config::errno::*;
use capos_rt::config::ring::CapError;
use capos_rt::http::{Body, Request};
use capos_rt::{CapRef, Env, Error, Fetch, HttpEndpoint};
use capos_schema::interfaces::{fetch as fetch_iface, http_endpoint};
use std::collections::BTreeMap;

/// Most responses open at once.
const MAX_OPEN: usize = 64;
/// Body parts read ahead per call that finds the buffer empty.
const READ_AHEAD: usize = 16;

struct Open {
    headers: Vec<u8>,
    body: Body,
    buffered: Vec<u8>,
    pos: usize,
}

pub struct HttpState {
    fetch: Option<Fetch>,
    endpoints: Vec<(String, HttpEndpoint)>,
    open: BTreeMap<u32, Open>,
    next: u32,
    last_error: String,
}

/// The origin of an absolute http(s) URL, lowercased (`None`: not one).
fn origin_of(url: &str) -> Option<String> {
    let lower = url.to_ascii_lowercase();
    let scheme_end = if lower.starts_with("http://") {
        7
    } else if lower.starts_with("https://") {
        8
    } else {
        return None;
    };
    let rest = &lower[scheme_end..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let authority = authority
        .strip_suffix(if scheme_end == 7 { ":80" } else { ":443" })
        .unwrap_or(authority);
    Some(format!("{}{authority}", &lower[..scheme_end]))
}

fn errno_of(e: &Error) -> Errno {
    match e {
        Error::Cap { error, .. } => match error {
            CapError::Denied => EACCES,
            CapError::BadParams => EINVAL,
            CapError::TooLarge => EMSGSIZE,
            CapError::PeerGone => ECONNREFUSED,
            CapError::Exhausted => EMFILE,
            CapError::UnknownCap | CapError::StaleCap => EBADF,
            _ => EIO,
        },
        _ => EIO,
    }
}

impl HttpState {
    pub fn new(env: &Env) -> Self {
        let mut fetch = None;
        let mut endpoints = Vec::new();
        for entry in env.capset.entries() {
            let cap = CapRef {
                cap_id: entry.cap_id,
                interface_id: entry.interface_id,
            };
            if entry.interface_id == fetch_iface::INTERFACE_ID && fetch.is_none() {
                fetch = Fetch::from_cap(cap).ok();
            } else if entry.interface_id == http_endpoint::INTERFACE_ID
                && let Ok(endpoint) = HttpEndpoint::from_cap(cap)
                && let Ok(origin) = endpoint.origin()
            {
                endpoints.push((origin, endpoint));
            }
        }
        Self {
            fetch,
            endpoints,
            open: BTreeMap::new(),
            next: 1,
            last_error: String::new(),
        }
    }

    fn fail(&mut self, errno: Errno, message: String) -> Errno {
        self.last_error = message;
        errno
    }

    /// Sends a request whose parts are in the program's memory.
    pub fn request(
        &mut self,
        method: (u32, u32),
        url: (u32, u32),
        headers: (u32, u32),
        body: (u32, u32),
        timeout_ms: u32,
        (handle_out, status_out): (u32, u32),
    ) -> Result<()> {
        let text = |(ptr, len): (u32, u32)| -> Result<String> {
            String::from_utf8(app::read(ptr, len)?).map_err(|_| EILSEQ)
        };
        let method = text(method)?;
        let url = text(url)?;
        let header_text = text(headers)?;
        let body = app::read(body.0, body.1)?;
        let mut header_pairs = Vec::new();
        for line in header_text.lines().filter(|l| !l.trim().is_empty()) {
            let Some((name, value)) = line.split_once(':') else {
                return Err(self.fail(EINVAL, format!("{line:?} is not a `name: value` header")));
            };
            header_pairs.push((name.trim().to_string(), value.trim().to_string()));
        }
        if self.open.len() >= MAX_OPEN {
            return Err(self.fail(EMFILE, format!("{MAX_OPEN} responses are open; close some")));
        }
        let headers: Vec<(&str, &str)> = header_pairs
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let request = Request {
            method: &method,
            url: &url,
            headers: &headers,
            body: &body,
            timeout_ms,
        };
        let outcome = match self.route(&url) {
            Ok(Route::Endpoint(endpoint)) => endpoint.fetch(&request),
            Ok(Route::Fetch(fetch)) => fetch.fetch(&request),
            Err(message) => return Err(self.fail(ENOTCAPABLE, message)),
        };
        let response = match outcome {
            Ok(response) => response,
            Err(e) => {
                let errno = errno_of(&e);
                let message = match e {
                    Error::Cap { message, .. } => message,
                    other => other.to_string(),
                };
                return Err(self.fail(errno, message));
            }
        };
        let mut head = Vec::new();
        for (name, value) in &response.headers {
            head.extend_from_slice(format!("{name}: {value}\n").as_bytes());
        }
        let handle = self.next;
        self.next = self.next.wrapping_add(1).max(1);
        app::write_u32(status_out, u32::from(response.status))?;
        app::write_u32(handle_out, handle)?;
        self.open.insert(
            handle,
            Open {
                headers: head,
                body: response.body,
                buffered: Vec::new(),
                pos: 0,
            },
        );
        Ok(())
    }

    fn route(&self, url: &str) -> std::result::Result<Route, String> {
        let held = || {
            let mut held: Vec<String> = self.endpoints.iter().map(|(o, _)| o.clone()).collect();
            if self.fetch.is_some() {
                held.push("Fetch".into());
            }
            if held.is_empty() {
                "this program holds no Fetch or HttpEndpoint capability".to_string()
            } else {
                format!("this program may reach only: {}", held.join(", "))
            }
        };
        match origin_of(url) {
            Some(origin) => {
                if let Some((_, e)) = self.endpoints.iter().find(|(o, _)| *o == origin) {
                    return Ok(Route::Endpoint(*e));
                }
                if let Some(f) = self.fetch {
                    return Ok(Route::Fetch(f));
                }
                Err(format!("no capability reaches {origin}; {}", held()))
            }
            None if url.starts_with('/') => {
                if let [(_, e)] = self.endpoints.as_slice() {
                    return Ok(Route::Endpoint(*e));
                }
                if let Some(f) = self.fetch {
                    return Ok(Route::Fetch(f));
                }
                Err(format!("no capability for the path {url}; {}", held()))
            }
            None => Err(format!("{url:?} is not an http(s) URL or a path")),
        }
    }

    pub fn headers(&mut self, handle: u32, buf: u32, len: u32, size_out: u32) -> Result<()> {
        let Some(open) = self.open.get(&handle) else {
            return Err(self.fail(EBADF, format!("no response {handle}")));
        };
        let size = open.headers.len() as u32;
        app::write_u32(size_out, size)?;
        if size > len {
            return Err(ENOBUFS);
        }
        app::write(buf, &open.headers)
    }

    pub fn read(&mut self, handle: u32, buf: u32, len: u32, n_out: u32) -> Result<()> {
        let Some(open) = self.open.get_mut(&handle) else {
            return Err(self.fail(EBADF, format!("no response {handle}")));
        };
        if open.pos == open.buffered.len() {
            open.buffered.clear();
            open.pos = 0;
            match open.body.read_parts(READ_AHEAD) {
                Ok(parts) => {
                    for part in parts {
                        open.buffered.extend_from_slice(&part);
                    }
                }
                Err(e) => {
                    let errno = errno_of(&e);
                    return Err(self.fail(errno, e.to_string()));
                }
            }
        }
        let n = (open.buffered.len() - open.pos).min(len as usize);
        app::write(buf, &open.buffered[open.pos..open.pos + n])?;
        open.pos += n;
        app::write_u32(n_out, n as u32)
    }

    pub fn close(&mut self, handle: u32) -> Result<()> {
        match self.open.remove(&handle) {
            Some(_) => Ok(()),
            None => Err(self.fail(EBADF, format!("no response {handle}"))),
        }
    }

    pub fn last_error(&self, buf: u32, len: u32, size_out: u32) -> Result<()> {
        let message = self.last_error.as_bytes();
        app::write_u32(size_out, message.len() as u32)?;
        if message.len() > len as usize {
            return Err(ENOBUFS);
        }
        app::write(buf, message)
    }
}

enum Route {
    Endpoint(HttpEndpoint),
    Fetch(Fetch),
}

#[cfg(test)]
mod tests {
    use super::origin_of;

    #[test]
    fn origins_are_compared_lowercased_without_default_ports() {
        assert_eq!(
            origin_of("HTTP://A.com:80/x").as_deref(),
            Some("http://a.com")
        );
        assert_eq!(
            origin_of("https://a.com:8443?q").as_deref(),
            Some("https://a.com:8443")
        );
        assert_eq!(origin_of("/path"), None);
        assert_eq!(origin_of("ftp://a.com/"), None);
    }
}
