//! Fetch, HttpEndpoint and HttpBody: HTTP through the browser's `fetch`.
//!
//! The kernel checks every request (URL, method, headers, sizes, the
//! endpoint's origin) before the browser sees it, then hands it to the host
//! (`HostRequest::HttpStart`); the caller stays parked until the response
//! head arrives. The body comes as an `HttpBody` capability read in chunks:
//! the kernel holds the chunk being read and at most one more (asked for as
//! soon as the one before it starts being read, so the next is there when
//! the reader gets to it), never more, however large the body is.
//!
//! Who may reach what: `Fetch` reaches any http(s) URL; `Fetch.endpoint`
//! mints an `HttpEndpoint` bound to one origin (a policy process does this
//! and hands each child only what its spec names). An endpoint refuses other
//! origins here, and the host refuses redirects for it (the browser hides a
//! redirect's target, so it could not be checked) and checks the origin a
//! second time with the browser's own URL parser.

use super::{Inspect, append_within, encode, results_builder, serve, set_cap_ref, text};
use crate::host::{Host, HostClient, HostFailure, HostReply, HostRequest};
use crate::kernel::{CapEntry, GrantedCap, Kernel};
use capos_config::ring::SLOT_DATA_SIZE;
use capos_lib::{CallContext, CapError, Completion, Fault, Reply, Served, Service};
use capos_schema::http_capnp::{fetch, http_body, http_endpoint, http_request, http_upload};
use capos_schema::servers::{
    fetch as fetch_server, http_body as body_server, http_endpoint as endpoint_server,
    http_upload as upload_server,
};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

/// Most bytes one `HttpBody.read` returns: what fits a ring slot with the
/// message's framing.
pub const MAX_BODY_READ: u32 = SLOT_DATA_SIZE - 128;
/// Longest URL, and most header lines / bytes of headers, in a request.
pub const MAX_URL: usize = 8 * 1024;
pub const MAX_HEADERS: u32 = 64;
/// Largest request body an HttpUpload takes.
pub const MAX_UPLOAD: usize = 64 * 1024 * 1024;
/// A request's timeout when it names none, and the longest it may name.
pub const DEFAULT_TIMEOUT_MS: u32 = 30_000;
pub const MAX_TIMEOUT_MS: u32 = 600_000;
/// Most exchanges (requests and unread bodies) open at once, for everyone.
pub const MAX_OPEN: usize = 256;

/// Request headers the browser sets itself and refuses from scripts (the
/// Fetch standard's forbidden request-header names); `proxy-` and `sec-`
/// prefixed names are refused too.
const FORBIDDEN_HEADERS: &[&str] = &[
    "accept-charset",
    "accept-encoding",
    "access-control-request-headers",
    "access-control-request-method",
    "connection",
    "content-length",
    "cookie",
    "cookie2",
    "date",
    "dnt",
    "expect",
    "host",
    "keep-alive",
    "origin",
    "referer",
    "set-cookie",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "via",
];

/// Every exchange of one boot: how many are open, and bodies whose last
/// capability was dropped, to be cancelled at the next settle.
#[derive(Default)]
pub struct Http {
    open: RefCell<usize>,
    dropped: RefCell<Vec<Rc<RefCell<Exchange>>>>,
}

impl<H: Host> Service<Kernel<H>> for Http {
    fn settle(&self, kernel: &mut Kernel<H>) {
        let dropped = std::mem::take(&mut *self.dropped.borrow_mut());
        for exchange in dropped {
            let mut failures = exchange.borrow_mut().close("the body was dropped");
            let id = exchange.borrow().id;
            kernel.host_continue(id, HostRequest::HttpCancel);
            for (pid, user_data, fault) in failures.drain(..) {
                kernel.finish(pid, user_data, fault.into());
            }
        }
    }
}

/// One request and its response body.
struct Exchange {
    id: u32,
    /// The caller waiting for the response head.
    head_waiter: Option<(u32, u64)>,
    /// The endpoint's origin, re-checked against the URL that answered.
    origin: Option<String>,
    /// The body chunk being read, and how far; the one after it, if here.
    chunk: Vec<u8>,
    pos: usize,
    next: Option<Vec<u8>>,
    /// A chunk has been asked for and not yet delivered.
    pulling: bool,
    ended: bool,
    /// Set once the exchange failed or was cancelled: every later read fails so.
    failed: Option<Fault>,
    reads: VecDeque<(u32, u64, u32)>,
    http: Rc<Http>,
}

impl Exchange {
    /// Marks the exchange over (if it was not) and returns the reads to fail.
    fn close(&mut self, why: &str) -> Vec<(u32, u64, Fault)> {
        if self.failed.is_none() && !self.ended {
            self.failed = Some(Fault::new(CapError::PeerGone, why));
        }
        self.fail_reads()
    }

    fn fail_reads(&mut self) -> Vec<(u32, u64, Fault)> {
        let fault = self
            .failed
            .clone()
            .unwrap_or_else(|| Fault::new(CapError::PeerGone, "the body is over"));
        self.reads
            .drain(..)
            .map(|(pid, user_data, _)| (pid, user_data, fault.clone()))
            .collect()
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        *self.http.open.borrow_mut() -= 1;
    }
}

/// The host's replies for one exchange.
struct ExchangeClient {
    exchange: Rc<RefCell<Exchange>>,
}

impl<H: Host> HostClient<H> for ExchangeClient {
    fn on_reply(&self, kernel: &mut Kernel<H>, id: u32, reply: HostReply) {
        match reply {
            HostReply::HttpHead {
                status,
                status_text,
                url,
                redirected,
                headers,
            } => {
                let waiter = self.exchange.borrow_mut().head_waiter.take();
                let Some((pid, user_data)) = waiter else {
                    return;
                };
                let head = Head {
                    status,
                    status_text,
                    url,
                    redirected,
                    headers,
                };
                if let Err(fault) = deliver_head(kernel, &self.exchange, pid, user_data, head) {
                    self.exchange.borrow_mut().failed = Some(fault.clone());
                    kernel.host_continue(id, HostRequest::HttpCancel);
                    kernel.finish(pid, user_data, fault.into());
                }
            }
            HostReply::HttpChunk(bytes) => {
                {
                    let mut e = self.exchange.borrow_mut();
                    e.pulling = false;
                    if e.pos == e.chunk.len() {
                        e.chunk = bytes;
                        e.pos = 0;
                    } else {
                        e.next = Some(bytes);
                    }
                }
                serve_reads(kernel, &self.exchange);
            }
            HostReply::HttpEnd => {
                {
                    let mut e = self.exchange.borrow_mut();
                    e.pulling = false;
                    e.ended = true;
                }
                serve_reads(kernel, &self.exchange);
            }
            HostReply::Failed { kind, message } => {
                let fault = Fault::new(failure_error(kind), message);
                let (waiter, reads) = {
                    let mut e = self.exchange.borrow_mut();
                    e.pulling = false;
                    e.failed = Some(fault.clone());
                    (e.head_waiter.take(), e.fail_reads())
                };
                if let Some((pid, user_data)) = waiter {
                    kernel.finish(pid, user_data, fault.into());
                }
                for (pid, user_data, fault) in reads {
                    kernel.finish(pid, user_data, fault.into());
                }
            }
            // Not an HTTP reply: the host answered out of turn.
            other => {
                let fault = Fault::new(
                    CapError::Internal,
                    format!("the browser answered an HTTP request with {other:?}"),
                );
                let waiter = self.exchange.borrow_mut().head_waiter.take();
                if let Some((pid, user_data)) = waiter {
                    kernel.finish(pid, user_data, fault.into());
                }
            }
        }
    }
}

fn failure_error(kind: HostFailure) -> CapError {
    match kind {
        HostFailure::Denied => CapError::Denied,
        HostFailure::Invalid => CapError::BadParams,
        HostFailure::Network | HostFailure::Timeout => CapError::PeerGone,
        HostFailure::Quota => CapError::Exhausted,
        HostFailure::Other => CapError::Internal,
    }
}

struct Head {
    status: u16,
    status_text: String,
    url: String,
    redirected: bool,
    headers: Vec<(String, String)>,
}

/// Completes the caller's fetch with the response head and a new HttpBody.
fn deliver_head<H: Host>(
    kernel: &mut Kernel<H>,
    exchange: &Rc<RefCell<Exchange>>,
    pid: u32,
    user_data: u64,
    head: Head,
) -> Result<(), Fault> {
    if let Some(origin) = &exchange.borrow().origin {
        let answered = parse_url(&head.url).map(|u| u.origin);
        if answered.as_deref() != Ok(origin.as_str()) {
            return Err(Fault::new(
                CapError::Denied,
                format!(
                    "the response came from {}, not from this endpoint's origin {origin}",
                    head.url
                ),
            ));
        }
    }
    // The head must fit in a completion: checked before the body's
    // capability is granted (a CapRef is the same size whatever it names),
    // so a refusal leaves nothing behind.
    let any_cap = GrantedCap {
        cap_id: 0,
        interface_id: 0,
    };
    let size = head_message(&head, any_cap).len();
    if size > SLOT_DATA_SIZE as usize {
        return Err(Fault::new(
            CapError::TooLarge,
            format!(
                "the response head ({size} bytes with its headers) does not fit in a completion ({SLOT_DATA_SIZE})"
            ),
        ));
    }
    let body = Rc::new(HttpBody {
        exchange: exchange.clone(),
    });
    let granted = kernel.insert_cap(
        pid,
        CapEntry {
            object: body,
            badge: 0,
        },
    )?;
    let completion = Completion::Done(head_message(&head, granted));
    kernel.finish(pid, user_data, completion);
    Ok(())
}

/// The results of a fetch: the response head and its body's capability.
/// `Fetch.fetch`, `HttpEndpoint.fetch` and `HttpUpload.send` results are one
/// struct with one field, `response`, so one message serves all three (a
/// test below reads it as each).
fn head_message(head: &Head, body: GrantedCap) -> Vec<u8> {
    let mut message = results_builder();
    {
        let root = message.init_root::<fetch::fetch_results::Builder<'_>>();
        let mut response = root.init_response();
        response.set_status(head.status);
        response.set_status_text(head.status_text.as_str());
        response.set_url(head.url.as_str());
        response.set_redirected(head.redirected);
        let mut list = response.reborrow().init_headers(head.headers.len() as u32);
        for (i, (name, value)) in head.headers.iter().enumerate() {
            let mut h = list.reborrow().get(i as u32);
            h.set_name(name.as_str());
            h.set_value(value.as_str());
        }
        set_cap_ref(response.init_body(), body);
    }
    capnp::serialize::write_message_to_words(&message)
}

/// Answers the parked reads that can be answered now, and asks the host
/// for the chunk after this one once none is waiting.
fn serve_reads<H: Host>(kernel: &mut Kernel<H>, exchange: &Rc<RefCell<Exchange>>) {
    loop {
        let mut e = exchange.borrow_mut();
        let Some(&(pid, user_data, max)) = e.reads.front() else {
            break;
        };
        if e.pos == e.chunk.len()
            && let Some(next) = e.next.take()
        {
            e.chunk = next;
            e.pos = 0;
        }
        let remaining = e.chunk.len() - e.pos;
        let completion = if remaining > 0 {
            let n = remaining.min(max as usize);
            let data = &e.chunk[e.pos..e.pos + n];
            let completion = read_completion(data, false);
            e.pos += n;
            completion
        } else if let Some(fault) = &e.failed {
            Completion::Failed(fault.clone())
        } else if e.ended {
            read_completion(&[], true)
        } else {
            break;
        };
        e.reads.pop_front();
        drop(e);
        kernel.finish(pid, user_data, completion);
    }
    let mut e = exchange.borrow_mut();
    if e.pos == e.chunk.len() && e.next.is_none() {
        e.chunk = Vec::new(); // used up: free it
        e.pos = 0;
    }
    if e.next.is_none() && !e.ended && !e.pulling && e.failed.is_none() {
        // Ask for the chunk after this one before a read waits for it.
        e.pulling = true;
        let id = e.id;
        drop(e);
        kernel.host_continue(id, HostRequest::HttpPull);
    }
}

fn read_completion(data: &[u8], eof: bool) -> Completion {
    let mut message = results_builder();
    {
        let mut root = message.init_root::<http_body::read_results::Builder<'_>>();
        root.set_data(data);
        root.set_eof(eof);
    }
    encode(&message)
}

/// An http(s) URL split as far as the origin check needs.
#[derive(Debug, PartialEq, Eq)]
struct Url {
    /// `scheme://host[:port]`, lowercased, default port left out.
    origin: String,
}

/// Parses an absolute http(s) URL's origin. Refuses what would make the
/// origin ambiguous: credentials, backslashes, spaces and control bytes.
fn parse_url(url: &str) -> Result<Url, String> {
    let lower = url.to_ascii_lowercase();
    let (scheme, rest) = if lower.starts_with("http://") {
        ("http", &url[7..])
    } else if lower.starts_with("https://") {
        ("https", &url[8..])
    } else {
        return Err(format!("{url:?} is not an http or https URL"));
    };
    if url.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'\\') {
        return Err(format!(
            "{url:?} has spaces, control characters or backslashes"
        ));
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.contains('@') {
        return Err(format!("{url:?} carries credentials, which are refused"));
    }
    if authority.is_empty() {
        return Err(format!("{url:?} has no host"));
    }
    let authority = authority.to_ascii_lowercase();
    let default_port = if scheme == "http" { ":80" } else { ":443" };
    let authority = authority
        .strip_suffix(default_port)
        .unwrap_or(&authority)
        .to_string();
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
            (host, Some(port))
        }
        _ => (authority.as_str(), None),
    };
    if let Some(port) = port
        && (port.is_empty() || port.parse::<u16>().is_err())
        && !(authority.starts_with('[') && authority.ends_with(']'))
    {
        return Err(format!("{url:?} has a bad port"));
    }
    if host.is_empty() {
        return Err(format!("{url:?} has no host"));
    }
    Ok(Url {
        origin: format!("{scheme}://{authority}"),
    })
}

/// Parses an origin as `Fetch.endpoint` takes it: a URL with no path (one
/// trailing slash allowed), query or fragment.
fn parse_origin(origin: &str) -> Result<String, String> {
    let url = parse_url(origin)?;
    let scheme_len = origin.find("://").map_or(0, |i| i + 3);
    let after = &origin[scheme_len..];
    let tail = after.find(['/', '?', '#']).map_or("", |i| &after[i..]);
    if !tail.is_empty() && tail != "/" {
        return Err(format!(
            "{origin:?} is not an origin: it has a path, query or fragment ({tail:?})"
        ));
    }
    Ok(url.origin)
}

/// A request checked and ready for the host.
struct Checked {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    timeout_ms: u32,
}

/// Checks `request` before the browser sees it. `origin` is an endpoint's
/// origin: the URL may then be a path on it, and must be on it.
fn check_request(
    request: http_request::Reader<'_>,
    origin: Option<&str>,
) -> Result<Checked, Fault> {
    let bad = |m: String| Fault::new(CapError::BadParams, m);
    let method = text(request.get_method())?;
    let method = if method.is_empty() {
        "GET".to_string()
    } else {
        method
    };
    if method.len() > 32 || !method.bytes().all(is_token_byte) {
        return Err(bad(format!("{method:?} is not an HTTP method")));
    }
    let upper = method.to_ascii_uppercase();
    if matches!(upper.as_str(), "CONNECT" | "TRACE" | "TRACK") {
        return Err(Fault::new(
            CapError::Denied,
            format!("the browser forbids the method {method}"),
        ));
    }
    let url = text(request.get_url())?;
    if url.len() > MAX_URL {
        return Err(Fault::new(
            CapError::TooLarge,
            format!("the URL is {} bytes (at most {MAX_URL})", url.len()),
        ));
    }
    let url = match origin {
        Some(origin) if url.starts_with('/') && !url.starts_with("//") => format!("{origin}{url}"),
        _ => url,
    };
    if url.starts_with('/') && !url.starts_with("//") {
        // Fetch: a path on the site capOS was loaded from (the host resolves it).
        if url.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'\\') {
            return Err(bad(format!(
                "{url:?} has spaces, control characters or backslashes"
            )));
        }
    } else {
        let parsed = parse_url(&url).map_err(bad)?;
        if let Some(origin) = origin
            && parsed.origin != origin
        {
            return Err(Fault::new(
                CapError::Denied,
                format!("{} is not this endpoint's origin ({origin})", parsed.origin),
            ));
        }
    }
    let list = request.get_headers()?;
    if list.len() > MAX_HEADERS {
        return Err(Fault::new(
            CapError::TooLarge,
            format!("{} headers (at most {MAX_HEADERS})", list.len()),
        ));
    }
    let mut headers = Vec::new();
    for h in list {
        let name = text(h.get_name())?;
        let value = text(h.get_value())?;
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(bad(format!("{name:?} is not a header name")));
        }
        if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(bad(format!(
                "the value of header {name} has a line break or NUL"
            )));
        }
        let lower = name.to_ascii_lowercase();
        if FORBIDDEN_HEADERS.contains(&lower.as_str())
            || lower.starts_with("proxy-")
            || lower.starts_with("sec-")
        {
            return Err(Fault::new(
                CapError::Denied,
                format!("the browser forbids setting the header {name}"),
            ));
        }
        headers.push((name, value));
    }
    let body = request.get_body()?.to_vec();
    if !body.is_empty() && matches!(upper.as_str(), "GET" | "HEAD") {
        return Err(bad(format!("a {upper} request cannot have a body")));
    }
    let timeout_ms = match request.get_timeout_ms() {
        0 => DEFAULT_TIMEOUT_MS,
        t if t > MAX_TIMEOUT_MS => {
            return Err(bad(format!(
                "a timeout of {t} ms is over the limit ({MAX_TIMEOUT_MS} ms)"
            )));
        }
        t => t,
    };
    Ok(Checked {
        method,
        url,
        headers,
        body,
        timeout_ms,
    })
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Starts `request` for the caller: checked, then parked until the head.
fn start<H: Host>(
    kernel: &mut Kernel<H>,
    http: &Rc<Http>,
    call: &CallContext,
    request: http_request::Reader<'_>,
    origin: Option<&str>,
) -> Reply {
    let checked = check_request(request, origin)?;
    start_checked(kernel, http, call, checked, origin)
}

/// Hands a checked request to the host; the caller is parked until the head.
fn start_checked<H: Host>(
    kernel: &mut Kernel<H>,
    http: &Rc<Http>,
    call: &CallContext,
    checked: Checked,
    origin: Option<&str>,
) -> Reply {
    if *http.open.borrow() >= MAX_OPEN {
        return Err(Fault::new(
            CapError::Exhausted,
            format!(
                "{MAX_OPEN} HTTP exchanges are open (requests and unread bodies); cancel or drop some"
            ),
        ));
    }
    *http.open.borrow_mut() += 1;
    let exchange = Rc::new(RefCell::new(Exchange {
        id: 0,
        head_waiter: Some((call.caller, call.user_data)),
        origin: origin.map(str::to_string),
        chunk: Vec::new(),
        pos: 0,
        next: None,
        pulling: false,
        ended: false,
        failed: None,
        reads: VecDeque::new(),
        http: http.clone(),
    }));
    let client = Rc::new(ExchangeClient {
        exchange: exchange.clone(),
    });
    let id = kernel.host_request(
        client,
        HostRequest::HttpStart {
            method: &checked.method,
            url: &checked.url,
            headers: &checked.headers,
            body: &checked.body,
            timeout_ms: checked.timeout_ms,
            endpoint_origin: origin,
        },
    );
    exchange.borrow_mut().id = id;
    Ok(Served::Pending)
}

/// Checks `request` and grants the caller an HttpUpload for its body.
fn begin<H: Host>(
    kernel: &mut Kernel<H>,
    http: &Rc<Http>,
    call: &CallContext,
    request: http_request::Reader<'_>,
    origin: Option<&str>,
    results: capos_schema::cap_capnp::cap_ref::Builder<'_>,
) -> Reply {
    let checked = check_request(request, origin)?;
    if matches!(checked.method.to_ascii_uppercase().as_str(), "GET" | "HEAD") {
        return Err(Fault::bad_params(format!(
            "a {} request cannot have a body",
            checked.method
        )));
    }
    let upload = HttpUpload {
        http: http.clone(),
        origin: origin.map(str::to_string),
        request: RefCell::new(Some(checked)),
    };
    let granted = kernel.insert_cap(
        call.caller,
        CapEntry {
            object: Rc::new(upload),
            badge: 0,
        },
    )?;
    set_cap_ref(results, granted);
    Ok(Served::Done)
}

/// HTTP to any URL.
pub struct Fetch {
    http: Rc<Http>,
}

impl Fetch {
    pub fn new(http: Rc<Http>) -> Self {
        Self { http }
    }
}

impl Inspect for Fetch {}
serve!(Fetch, fetch, inspect);

impl<H: Host> fetch_server::Server<Kernel<H>> for Fetch {
    fn fetch(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: fetch::fetch_params::Reader<'_>,
        _results: fetch::fetch_results::Builder<'_>,
    ) -> Reply {
        start(kernel, &self.http, call, params.get_request()?, None)
    }

    fn endpoint(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: fetch::endpoint_params::Reader<'_>,
        results: fetch::endpoint_results::Builder<'_>,
    ) -> Reply {
        let origin = text(params.get_origin())?;
        let origin = parse_origin(&origin).map_err(|m| Fault::new(CapError::BadParams, m))?;
        let endpoint = HttpEndpoint {
            http: self.http.clone(),
            origin,
        };
        let granted = kernel.insert_cap(
            call.caller,
            CapEntry {
                object: Rc::new(endpoint),
                badge: 0,
            },
        )?;
        set_cap_ref(results.init_endpoint(), granted);
        Ok(Served::Done)
    }

    fn begin(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: fetch::begin_params::Reader<'_>,
        results: fetch::begin_results::Builder<'_>,
    ) -> Reply {
        let request = params.get_request()?;
        begin(
            kernel,
            &self.http,
            call,
            request,
            None,
            results.init_upload(),
        )
    }
}

/// HTTP to one origin.
pub struct HttpEndpoint {
    http: Rc<Http>,
    origin: String,
}

impl Inspect for HttpEndpoint {
    fn describe(&self) -> Option<String> {
        Some(self.origin.clone())
    }
}
serve!(HttpEndpoint, http_endpoint, inspect);

impl<H: Host> endpoint_server::Server<Kernel<H>> for HttpEndpoint {
    fn fetch(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: http_endpoint::fetch_params::Reader<'_>,
        _results: http_endpoint::fetch_results::Builder<'_>,
    ) -> Reply {
        start(
            kernel,
            &self.http,
            call,
            params.get_request()?,
            Some(&self.origin),
        )
    }

    fn origin(
        &self,
        _kernel: &mut Kernel<H>,
        _call: &CallContext,
        _params: http_endpoint::origin_params::Reader<'_>,
        mut results: http_endpoint::origin_results::Builder<'_>,
    ) -> Reply {
        results.set_origin(self.origin.as_str());
        Ok(Served::Done)
    }

    fn begin(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: http_endpoint::begin_params::Reader<'_>,
        results: http_endpoint::begin_results::Builder<'_>,
    ) -> Reply {
        let request = params.get_request()?;
        let upload = results.init_upload();
        begin(
            kernel,
            &self.http,
            call,
            request,
            Some(&self.origin),
            upload,
        )
    }
}

/// A request whose body is still being written.
pub struct HttpUpload {
    http: Rc<Http>,
    origin: Option<String>,
    /// `None` once sent.
    request: RefCell<Option<Checked>>,
}

impl Inspect for HttpUpload {
    fn describe(&self) -> Option<String> {
        let request = self.request.borrow();
        request
            .as_ref()
            .map(|r| format!("{} {} ({} bytes)", r.method, r.url, r.body.len()))
    }
}
serve!(HttpUpload, http_upload, inspect);

fn sent() -> Fault {
    Fault::new(CapError::Denied, "this upload has already been sent")
}

impl<H: Host> upload_server::Server<Kernel<H>> for HttpUpload {
    fn write(
        &self,
        _kernel: &mut Kernel<H>,
        _call: &CallContext,
        params: http_upload::write_params::Reader<'_>,
        mut results: http_upload::write_results::Builder<'_>,
    ) -> Reply {
        let data = params.get_data()?;
        let mut request = self.request.borrow_mut();
        let request = request.as_mut().ok_or_else(sent)?;
        let size = append_within(&mut request.body, data, MAX_UPLOAD, "a request body")?;
        results.set_size(size);
        Ok(Served::Done)
    }

    fn send(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        _params: http_upload::send_params::Reader<'_>,
        _results: http_upload::send_results::Builder<'_>,
    ) -> Reply {
        let request = self.request.borrow_mut().take().ok_or_else(sent)?;
        start_checked(kernel, &self.http, call, request, self.origin.as_deref())
    }
}

/// A response body, read in order.
pub struct HttpBody {
    exchange: Rc<RefCell<Exchange>>,
}

impl Drop for HttpBody {
    fn drop(&mut self) {
        let e = self.exchange.borrow();
        if e.failed.is_none() && !e.ended {
            // Cancelled at the next settle, which has the kernel at hand.
            e.http.dropped.borrow_mut().push(self.exchange.clone());
        }
    }
}

impl Inspect for HttpBody {}
serve!(HttpBody, http_body, inspect);

impl<H: Host> body_server::Server<Kernel<H>> for HttpBody {
    fn read(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: http_body::read_params::Reader<'_>,
        _results: http_body::read_results::Builder<'_>,
    ) -> Reply {
        let max = params.get_max().clamp(1, MAX_BODY_READ);
        self.exchange
            .borrow_mut()
            .reads
            .push_back((call.caller, call.user_data, max));
        // What is buffered finishes it at once (posted as soon as it parks).
        serve_reads(kernel, &self.exchange);
        Ok(Served::Pending)
    }

    fn cancel(
        &self,
        kernel: &mut Kernel<H>,
        _call: &CallContext,
        _params: http_body::cancel_params::Reader<'_>,
        _results: http_body::cancel_results::Builder<'_>,
    ) -> Reply {
        let (id, failures) = {
            let mut e = self.exchange.borrow_mut();
            if e.failed.is_none() && !e.ended {
                e.failed = Some(Fault::new(CapError::PeerGone, "the body was cancelled"));
            }
            (e.id, e.fail_reads())
        };
        kernel.host_continue(id, HostRequest::HttpCancel);
        for (pid, user_data, fault) in failures {
            kernel.finish(pid, user_data, fault.into());
        }
        Ok(Served::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalized_and_ambiguous_urls_refused() {
        let o = |u: &str| parse_url(u).map(|u| u.origin);
        assert_eq!(
            o("http://127.0.0.1:8080/x").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            o("HTTPS://Example.COM:443/?q").unwrap(),
            "https://example.com"
        );
        assert_eq!(o("http://example.com:80").unwrap(), "http://example.com");
        assert_eq!(o("http://[::1]:81/").unwrap(), "http://[::1]:81");
        assert!(o("ftp://example.com/").is_err());
        assert!(o("http://user@evil.com/").is_err());
        assert!(o("http://a.com\\@evil.com/").is_err());
        assert!(o("http://a.com /").is_err());
        assert!(o("http:///path").is_err());
        assert!(o("http://a.com:99999/").is_err());
        assert!(o("javascript:alert(1)").is_err());
    }

    #[test]
    fn one_head_message_reads_as_every_fetch_result() {
        let head = Head {
            status: 201,
            status_text: "Created".into(),
            url: "http://a/x".into(),
            redirected: false,
            headers: vec![("a".into(), "b".into())],
        };
        let cap = GrantedCap {
            cap_id: 7,
            interface_id: 9,
        };
        let bytes = head_message(&head, cap);
        let message = capnp::serialize::read_message_from_flat_slice(
            &mut bytes.as_slice(),
            Default::default(),
        )
        .unwrap();
        let a = message
            .get_root::<http_endpoint::fetch_results::Reader<'_>>()
            .unwrap();
        let b = message
            .get_root::<http_upload::send_results::Reader<'_>>()
            .unwrap();
        for response in [a.get_response().unwrap(), b.get_response().unwrap()] {
            assert_eq!(response.get_status(), 201);
            assert_eq!(response.get_body().unwrap().get_cap_id(), 7);
        }
    }

    #[test]
    fn an_origin_has_no_path() {
        assert_eq!(parse_origin("http://a.com/").unwrap(), "http://a.com");
        assert_eq!(parse_origin("http://a.com:81").unwrap(), "http://a.com:81");
        assert!(parse_origin("http://a.com/api").is_err());
        assert!(parse_origin("http://a.com?x").is_err());
    }
}
