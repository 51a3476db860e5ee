//! `Fetch`, `HttpEndpoint` and `HttpBody` (schema/http.capnp) over the
//! generated clients.

use crate::message::cap_ref;
use crate::{CapRef, Error, RingTransport};
use capos_schema::clients;
use capos_schema::http_capnp::{http_request, http_response};
use capos_schema::interfaces::http_body;

/// Most bytes one body read returns (the kernel's limit).
pub const BODY_READ_MAX: u32 = capos_config::ring::SLOT_DATA_SIZE - 128;
/// Bytes of a request beyond which its body goes through an HttpUpload.
const INLINE_REQUEST_MAX: usize = BODY_READ_MAX as usize - 256;
/// Bytes of body one upload write carries.
const UPLOAD_PART: usize = BODY_READ_MAX as usize - 64;

/// Reads a body keeps in flight: enough that the kernel has the next read
/// waiting whenever a chunk arrives.
const READS_IN_FLIGHT: usize = 128;

/// An HTTP request to make.
#[derive(Clone, Debug, Default)]
pub struct Request<'a> {
    /// Empty means GET.
    pub method: &'a str,
    pub url: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
    /// Until the response head; 0 means the kernel's default (30 s).
    pub timeout_ms: u32,
}

impl<'a> Request<'a> {
    pub fn get(url: &'a str) -> Self {
        Self {
            url,
            ..Self::default()
        }
    }
}

/// A response head, and its body still to be read.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub status_text: String,
    pub url: String,
    pub redirected: bool,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

impl Response {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn fill_request(mut builder: http_request::Builder<'_>, request: &Request<'_>) {
    builder.set_method(request.method);
    builder.set_url(request.url);
    builder.set_body(request.body);
    builder.set_timeout_ms(request.timeout_ms);
    let mut list = builder.init_headers(request.headers.len() as u32);
    for (i, (name, value)) in request.headers.iter().enumerate() {
        let mut h = list.reborrow().get(i as u32);
        h.set_name(name);
        h.set_value(value);
    }
}

/// Whether `request` is too large to go in one call.
fn needs_upload(request: &Request<'_>) -> bool {
    let headers: usize = request
        .headers
        .iter()
        .map(|(n, v)| n.len() + v.len() + 16)
        .sum();
    request.url.len() + request.method.len() + headers + request.body.len() > INLINE_REQUEST_MAX
}

/// Sends `request`'s body through the upload `begin` returned, then the request.
fn upload(cap: CapRef, request: &Request<'_>) -> Result<Response, Error> {
    let upload: clients::HttpUpload<RingTransport> = cap.client()?;
    for part in request.body.chunks(UPLOAD_PART) {
        let mut call = upload.write_request();
        call.get().set_data(part);
        call.send()?;
    }
    let response = upload.send_request().send()?;
    let result = read_response(response.get()?.get_response()?);
    let _ = crate::process::release(cap);
    result
}

/// The request as `begin` takes it: everything but the body.
fn head_only<'a>(request: &Request<'a>) -> Request<'a> {
    Request {
        body: &[],
        ..request.clone()
    }
}

fn read_response(r: http_response::Reader<'_>) -> Result<Response, Error> {
    let mut headers = Vec::new();
    for h in r.get_headers()? {
        headers.push((text(h.get_name())?, text(h.get_value())?));
    }
    Ok(Response {
        status: r.get_status(),
        status_text: text(r.get_status_text())?,
        url: text(r.get_url())?,
        redirected: r.get_redirected(),
        headers,
        body: Body::from_cap(cap_ref(r.get_body()?))?,
    })
}

fn text(t: capnp::Result<capnp::text::Reader<'_>>) -> Result<String, Error> {
    Ok(t?.to_string()?)
}

/// `fetch` for Fetch and HttpEndpoint, whose generated clients are two types
/// with the same `fetch` and `begin`: in one call if the request fits,
/// else its head with `begin` and its body through the HttpUpload.
macro_rules! send {
    ($client:expr, $request:expr) => {{
        let request: &Request<'_> = $request;
        if needs_upload(request) {
            let mut call = $client.begin_request();
            fill_request(call.get().init_request(), &head_only(request));
            let response = call.send()?;
            upload(cap_ref(response.get()?.get_upload()?), request)
        } else {
            let mut call = $client.fetch_request();
            fill_request(call.get().init_request(), request);
            let response = call.send()?;
            read_response(response.get()?.get_response()?)
        }
    }};
}

crate::capability!(
    /// HTTP to any URL.
    Fetch, fetch
);

impl Fetch {
    /// Sends `request` (its body in parts if it is large) and returns the
    /// response once its head has arrived.
    pub fn fetch(&self, request: &Request<'_>) -> Result<Response, Error> {
        send!(self.client, request)
    }

    /// An endpoint that reaches `origin` only.
    pub fn endpoint(&self, origin: &str) -> Result<HttpEndpoint, Error> {
        let mut call = self.client.endpoint_request();
        call.get().set_origin(origin);
        let response = call.send()?;
        HttpEndpoint::from_cap(cap_ref(response.get()?.get_endpoint()?))
    }
}

crate::capability!(
    /// HTTP to one origin.
    HttpEndpoint, http_endpoint
);

impl HttpEndpoint {
    /// `request.url` may be a path on the origin ("/api").
    pub fn fetch(&self, request: &Request<'_>) -> Result<Response, Error> {
        send!(self.client, request)
    }

    pub fn origin(&self) -> Result<String, Error> {
        let response = self.client.origin_request().send()?;
        text(response.get()?.get_origin())
    }
}

/// A response body: read it in order, or drop it to cancel the transfer.
#[derive(Debug)]
pub struct Body {
    cap: CapRef,
    ended: bool,
}

impl Body {
    pub fn from_cap(cap: CapRef) -> Result<Self, Error> {
        if cap.interface_id != http_body::INTERFACE_ID {
            return Err(Error::Other(format!(
                "capability {} is not an HttpBody",
                cap.cap_id
            )));
        }
        Ok(Self { cap, ended: false })
    }

    /// The next part of the body (at most `BODY_READ_MAX` bytes), or `None`
    /// at its end.
    pub fn read(&mut self) -> Result<Option<Vec<u8>>, Error> {
        let mut parts = self.read_parts(1)?;
        Ok(parts.pop())
    }

    /// Up to `n` parts with `n` reads in flight (they complete in order);
    /// fewer (none) once the body has ended.
    pub fn read_parts(&mut self, n: usize) -> Result<Vec<Vec<u8>>, Error> {
        if self.ended {
            return Ok(Vec::new());
        }
        let params = read_params(BODY_READ_MAX);
        let calls: Vec<(CapRef, u16, &[u8])> = (0..n)
            .map(|_| (self.cap, http_body::method::READ, params.as_slice()))
            .collect();
        let mut parts = Vec::new();
        for outcome in crate::call_batch(&calls)? {
            let bytes = outcome?;
            let message = capnp::serialize::read_message_from_flat_slice(
                &mut bytes.as_slice(),
                capnp::message::ReaderOptions::new(),
            )?;
            let results = message
                .get_root::<capos_schema::http_capnp::http_body::read_results::Reader<'_>>()?;
            let data = results.get_data()?;
            if !data.is_empty() {
                parts.push(data.to_vec());
            }
            if results.get_eof() {
                self.ended = true;
            }
        }
        Ok(parts)
    }

    /// Reads the rest of the body, refusing to hold more than `limit` bytes.
    pub fn read_to_end(&mut self, limit: usize) -> Result<Vec<u8>, Error> {
        let mut all = Vec::new();
        self.for_each_part(|part| {
            if all.len() + part.len() > limit {
                return Err(Error::Other(format!("the body is over {limit} bytes")));
            }
            all.extend_from_slice(part);
            Ok(())
        })?;
        Ok(all)
    }

    /// Hands each part of the rest of the body to `f`, in order, with reads
    /// kept in flight so the transfer never waits on the program.
    pub fn for_each_part(
        &mut self,
        mut f: impl FnMut(&[u8]) -> Result<(), Error>,
    ) -> Result<(), Error> {
        while !self.ended {
            for part in self.read_parts(READS_IN_FLIGHT)? {
                f(&part)?;
            }
        }
        Ok(())
    }

    /// Stops the transfer.
    pub fn cancel(&mut self) -> Result<(), Error> {
        let mut params = capnp::message::Builder::new_default();
        params.init_root::<capos_schema::http_capnp::http_body::cancel_params::Builder<'_>>();
        let bytes = capnp::serialize::write_message_to_words(&params);
        crate::call(self.cap, http_body::method::CANCEL, &bytes)?;
        self.ended = true;
        Ok(())
    }
}

impl Drop for Body {
    /// Releasing the capability cancels a transfer still under way.
    fn drop(&mut self) {
        let _ = crate::process::release(self.cap);
    }
}

fn read_params(max: u32) -> Vec<u8> {
    let mut params = capnp::message::Builder::new_default();
    params
        .init_root::<capos_schema::http_capnp::http_body::read_params::Builder<'_>>()
        .set_max(max);
    capnp::serialize::write_message_to_words(&params)
}
