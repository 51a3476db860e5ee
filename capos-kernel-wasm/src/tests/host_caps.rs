//! Fetch, HttpEndpoint, HttpBody and KvStore against a host whose replies
//! the test plays.

use super::{Message, Proc, TestHost, done, error_text, manifest, reader, words};
use crate::host::{HostFailure, HostReply};
use crate::kernel::Kernel;
use capos_config::capset::CapSet;
use capos_config::ring::{CapError, Cqe, OP_RELEASE, Sqe};
use capos_schema::clipboard_capnp::clipboard;
use capos_schema::display_capnp::{DisplayEvent, display};
use capos_schema::http_capnp::{fetch, http_body, http_endpoint, http_upload};
use capos_schema::interfaces;
use capos_schema::kv_capnp::{kv_store, kv_writer};
use capos_schema::manifest_capnp::KernelService as S;

/// A message whose root is an empty `T`.
fn empty<T: capnp::traits::Owned>() -> Message {
    let mut m = Message::new_default();
    m.init_root::<T::Builder<'_>>();
    m
}

fn boot() -> (Kernel<TestHost>, Proc) {
    let mut k = Kernel::new(TestHost::default(), crate::caps::init_grants);
    k.boot(&manifest(&[("fetch", S::Fetch), ("kv", S::KvStore)]))
        .unwrap();
    let p = Proc::attach(&k, 1);
    (k, p)
}

fn fetch_params(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut m = Message::new_default();
    let mut r = m.init_root::<fetch::fetch_params::Builder>().init_request();
    r.set_method(method);
    r.set_url(url);
    r.set_body(body);
    let mut list = r.init_headers(headers.len() as u32);
    for (i, (n, v)) in headers.iter().enumerate() {
        list.reborrow().get(i as u32).set_name(n);
        list.reborrow().get(i as u32).set_value(v);
    }
    words(&m)
}

/// Mints an HttpEndpoint for `origin`; returns its cap id.
fn endpoint(k: &mut Kernel<TestHost>, p: &mut Proc, origin: &str) -> Result<u32, String> {
    let (f, iface) = p.cap("fetch");
    let mut m = Message::new_default();
    m.init_root::<fetch::endpoint_params::Builder>()
        .set_origin(origin);
    p.call(f, iface, interfaces::fetch::method::ENDPOINT, &words(&m));
    let c = done(k, p).remove(0);
    if c.0.result < 0 {
        return Err(error_text(&c));
    }
    let r = reader(&c.1);
    let res = r.get_root::<fetch::endpoint_results::Reader>().unwrap();
    Ok(res.get_endpoint().unwrap().get_cap_id())
}

fn endpoint_fetch(p: &mut Proc, ep: u32, url: &str) -> u64 {
    p.call(
        ep,
        interfaces::http_endpoint::INTERFACE_ID,
        interfaces::http_endpoint::method::FETCH,
        &fetch_params("", url, &[], b""),
    )
}

fn last_request(k: &mut Kernel<TestHost>) -> (u32, String) {
    while k.poll() {}
    let (id, text, _) = k.host().host_requests.last().expect("a host request");
    (*id, text.clone())
}

fn head(url: &str) -> HostReply {
    HostReply::HttpHead {
        status: 200,
        status_text: "OK".into(),
        url: url.into(),
        redirected: false,
        headers: vec![("content-type".into(), "text/plain".into())],
    }
}

/// The body cap of a fetch completion.
fn body_of(c: &(Cqe, Vec<u8>)) -> u32 {
    assert!(c.0.result >= 0, "fetch failed: {}", error_text(c));
    let r = reader(&c.1);
    let res = r.get_root::<fetch::fetch_results::Reader>().unwrap();
    let response = res.get_response().unwrap();
    assert_eq!(response.get_status(), 200);
    response.get_body().unwrap().get_cap_id()
}

fn read(p: &mut Proc, body: u32, max: u32) -> u64 {
    let mut m = Message::new_default();
    m.init_root::<http_body::read_params::Builder>()
        .set_max(max);
    p.call(
        body,
        interfaces::http_body::INTERFACE_ID,
        interfaces::http_body::method::READ,
        &words(&m),
    )
}

fn read_result(c: &(Cqe, Vec<u8>)) -> (Vec<u8>, bool) {
    assert!(c.0.result >= 0, "read failed: {}", error_text(c));
    let r = reader(&c.1);
    let res = r.get_root::<http_body::read_results::Reader>().unwrap();
    (res.get_data().unwrap().to_vec(), res.get_eof())
}

#[test]
fn an_endpoint_reaches_its_origin_and_nothing_else() {
    let (mut k, mut p) = boot();
    let ep = endpoint(&mut k, &mut p, "http://127.0.0.1:8001").unwrap();
    // Another origin, a look-alike with credentials, a scheme change: refused
    // before the browser is asked anything.
    for url in [
        "http://127.0.0.1:8002/hello",
        "https://127.0.0.1:8001/hello",
        "http://127.0.0.1:8001@evil.example/",
        "//evil.example/x",
    ] {
        endpoint_fetch(&mut p, ep, url);
        let c = done(&mut k, &mut p).remove(0);
        assert!(c.0.result < 0, "{url} was not refused");
    }
    assert!(k.host().host_requests.is_empty());
    endpoint_fetch(&mut p, ep, "/hello");
    assert!(done(&mut k, &mut p).is_empty(), "parked until the head");
    let (id, request) = last_request(&mut k);
    assert!(
        request.contains("url: \"http://127.0.0.1:8001/hello\""),
        "{request}"
    );
    assert!(
        request.contains("endpoint_origin: Some(\"http://127.0.0.1:8001\")"),
        "{request}"
    );
    // A head from elsewhere (however the browser got there) is refused.
    k.host_reply(id, head("http://127.0.0.1:8002/hello"));
    let c = done(&mut k, &mut p).remove(0);
    assert_eq!(c.0.result, CapError::Denied.code());
    assert!(error_text(&c).contains("not from this endpoint's origin"));
    assert_eq!(k.stats().host_requests, 0, "the exchange was cancelled");
    assert!(
        k.host()
            .host_requests
            .last()
            .unwrap()
            .1
            .contains("HttpCancel"),
        "the browser was told to stop"
    );
}

#[test]
fn bad_origins_urls_headers_and_methods_are_refused_with_reasons() {
    let (mut k, mut p) = boot();
    assert!(endpoint(&mut k, &mut p, "http://a.example/api").is_err());
    assert!(endpoint(&mut k, &mut p, "file:///etc/passwd").is_err());
    let (f, iface) = p.cap("fetch");
    // method, URL, headers, body, what the refusal says
    type Case<'a> = (
        &'a str,
        &'a str,
        &'a [(&'a str, &'a str)],
        &'a [u8],
        &'a str,
    );
    let cases: &[Case<'_>] = &[
        (
            "GET",
            "ftp://a.example/",
            &[],
            b"",
            "not an http or https URL",
        ),
        (
            "GET",
            "http://a.example/",
            &[("Cookie", "x")],
            b"",
            "forbids setting the header Cookie",
        ),
        (
            "GET",
            "http://a.example/",
            &[("Sec-Fetch-Mode", "x")],
            b"",
            "forbids",
        ),
        (
            "GET",
            "http://a.example/",
            &[("X-A", "1\r\nHost: b")],
            b"",
            "line break",
        ),
        (
            "GET",
            "http://a.example/",
            &[("Bad Name", "1")],
            b"",
            "not a header name",
        ),
        (
            "CONNECT",
            "http://a.example/",
            &[],
            b"",
            "forbids the method",
        ),
        (
            "GET",
            "http://a.example/",
            &[],
            b"body",
            "cannot have a body",
        ),
    ];
    for (method, url, headers, body, why) in cases {
        p.call(
            f,
            iface,
            interfaces::fetch::method::FETCH,
            &fetch_params(method, url, headers, body),
        );
        let c = done(&mut k, &mut p).remove(0);
        assert!(c.0.result < 0, "{method} {url} {headers:?} was not refused");
        assert!(
            error_text(&c).contains(why),
            "{}: wanted {why:?}",
            error_text(&c)
        );
    }
    // A request too large for one call never leaves the process: the
    // ring refuses to queue it.
    let huge = "v".repeat(9000);
    let params = fetch_params("GET", "http://a.example/", &[("X-A", huge.as_str())], b"");
    let sqe = Sqe {
        cap_id: f,
        interface_id: iface,
        method: interfaces::fetch::method::FETCH,
        opcode: capos_config::ring::OP_CALL,
        ..Sqe::default()
    };
    assert!(p.sq.push(&p.ring, &sqe, &params).is_err());
    assert!(k.host().host_requests.is_empty());
}

#[test]
fn a_body_is_read_in_order_at_most_two_chunks_held() {
    let (mut k, mut p) = boot();
    let (f, iface) = p.cap("fetch");
    p.call(
        f,
        iface,
        interfaces::fetch::method::FETCH,
        &fetch_params(
            "POST",
            "http://a.example/echo",
            &[("X-Test", "1")],
            b"payload",
        ),
    );
    let (id, request) = last_request(&mut k);
    assert!(request.contains("method: \"POST\""), "{request}");
    assert_eq!(k.host().host_requests[0].2, b"payload");
    k.host_reply(id, head("http://a.example/echo"));
    let body = body_of(&done(&mut k, &mut p)[0]);
    // Three reads in flight before any data: they complete in order.
    for _ in 0..3 {
        read(&mut p, body, 4);
    }
    assert!(done(&mut k, &mut p).is_empty());
    assert!(last_request(&mut k).1.contains("HttpPull"));
    let pulls = |k: &Kernel<TestHost>| {
        k.host()
            .host_requests
            .iter()
            .filter(|r| r.1.contains("HttpPull"))
            .count()
    };
    assert_eq!(pulls(&k), 1);
    k.host_reply(id, HostReply::HttpChunk(b"abcdef".to_vec()));
    let got: Vec<_> = done(&mut k, &mut p).iter().map(read_result).collect();
    assert_eq!(got[0], (b"abcd".to_vec(), false));
    assert_eq!(got[1], (b"ef".to_vec(), false));
    assert_eq!(got.len(), 2, "the third waits for the next chunk");
    assert_eq!(pulls(&k), 2, "the next asked for as soon as one arrived");
    k.host_reply(id, HostReply::HttpChunk(b"gh".to_vec()));
    k.host_reply(id, HostReply::HttpEnd);
    let got: Vec<_> = done(&mut k, &mut p).iter().map(read_result).collect();
    assert_eq!(got, vec![(b"gh".to_vec(), false)]);
    read(&mut p, body, 100);
    let got: Vec<_> = done(&mut k, &mut p).iter().map(read_result).collect();
    assert_eq!(got, vec![(Vec::new(), true)]);
    assert_eq!(k.stats().host_requests, 0);
}

#[test]
fn dropping_a_body_cancels_the_transfer_and_failures_reach_readers() {
    let (mut k, mut p) = boot();
    let (f, iface) = p.cap("fetch");
    let url = "http://a.example/big";
    p.call(
        f,
        iface,
        interfaces::fetch::method::FETCH,
        &fetch_params("", url, &[], b""),
    );
    let (id, _) = last_request(&mut k);
    k.host_reply(id, head(url));
    let body = body_of(&done(&mut k, &mut p)[0]);
    assert_eq!(k.stats().host_requests, 1);
    p.submit(
        Sqe {
            cap_id: body,
            opcode: OP_RELEASE,
            ..Sqe::default()
        },
        &[],
    );
    done(&mut k, &mut p);
    assert_eq!(
        k.stats().host_requests,
        0,
        "released: the exchange is closed"
    );
    assert!(last_request(&mut k).1.contains("HttpCancel"));
    // A late chunk for the closed exchange is dropped, not a panic.
    k.host_reply(id, HostReply::HttpChunk(vec![1; 10]));

    // A network failure mid-body fails the waiting read with its message.
    p.call(
        f,
        iface,
        interfaces::fetch::method::FETCH,
        &fetch_params("", url, &[], b""),
    );
    let (id, _) = last_request(&mut k);
    k.host_reply(id, head(url));
    let body = body_of(&done(&mut k, &mut p)[0]);
    read(&mut p, body, 10);
    k.host_reply(
        id,
        HostReply::Failed {
            kind: HostFailure::Network,
            message: "the connection was reset".into(),
        },
    );
    let c = done(&mut k, &mut p).remove(0);
    assert_eq!(c.0.result, CapError::PeerGone.code());
    assert!(error_text(&c).contains("reset"));

    // CORS and timeouts before the head: the fetch itself fails so.
    p.call(
        f,
        iface,
        interfaces::fetch::method::FETCH,
        &fetch_params("", url, &[], b""),
    );
    let (id, _) = last_request(&mut k);
    k.host_reply(
        id,
        HostReply::Failed {
            kind: HostFailure::Denied,
            message: "CORS: the server must send Access-Control-Allow-Origin".into(),
        },
    );
    let c = done(&mut k, &mut p).remove(0);
    assert_eq!(c.0.result, CapError::Denied.code());
    assert!(error_text(&c).contains("CORS"));
}

#[test]
fn a_process_without_the_capability_has_no_way_to_the_network() {
    let mut k = Kernel::new(TestHost::default(), crate::caps::init_grants);
    k.boot(&manifest(&[("console", S::Console)])).unwrap();
    let (_, _, _, capset, _) = k.host().started[0].clone();
    let capset = CapSet::parse(&capset).unwrap();
    assert!(capset.entries().iter().all(|e| {
        e.interface_id != interfaces::fetch::INTERFACE_ID
            && e.interface_id != interfaces::http_endpoint::INTERFACE_ID
    }));
    // Guessing ids is the forger's test (tests/core.rs); here: nothing asks the host.
    assert!(k.host().host_requests.is_empty());
}

fn kv_call(p: &mut Proc, method: u16, m: &Message) -> u64 {
    let (kv, iface) = p.cap("kv");
    p.call(kv, iface, method, &words(m))
}

#[test]
fn kv_values_round_trip_through_the_host_and_large_ones_are_read_in_parts() {
    let (mut k, mut p) = boot();
    let mut m = Message::new_default();
    {
        let mut put = m.init_root::<kv_store::put_params::Builder>();
        put.set_key("greeting");
        put.set_value(b"hello");
    }
    kv_call(&mut p, interfaces::kv_store::method::PUT, &m);
    let (id, request) = last_request(&mut k);
    assert!(request.contains("namespace: \"test\""), "{request}");
    assert!(done(&mut k, &mut p).is_empty(), "parked until stored");
    k.host_reply(id, HostReply::KvDone);
    assert!(done(&mut k, &mut p)[0].0.result >= 0);

    // A value larger than a slot: the first read goes to the store, the
    // next ones to the copy it kept.
    let big: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
    let mut got = Vec::new();
    let mut offset = 0u64;
    loop {
        let mut m = Message::new_default();
        {
            let mut get = m.init_root::<kv_store::get_params::Builder>();
            get.set_key("big");
            get.set_offset(offset);
            get.set_max(4096);
        }
        kv_call(&mut p, interfaces::kv_store::method::GET, &m);
        if offset == 0 {
            let (id, _) = last_request(&mut k);
            k.host_reply(id, HostReply::KvValue(Some(big.clone())));
        }
        let c = done(&mut k, &mut p).remove(0);
        let r = reader(&c.1);
        let res = r.get_root::<kv_store::get_results::Reader>().unwrap();
        assert!(res.get_found());
        assert_eq!(res.get_size(), 5000);
        let data = res.get_data().unwrap();
        assert!(!data.is_empty() && data.len() <= 1920);
        got.extend_from_slice(data);
        offset += data.len() as u64;
        if offset == 5000 {
            break;
        }
    }
    assert_eq!(got, big);
    let gets = k
        .host()
        .host_requests
        .iter()
        .filter(|r| r.1.contains("KvGet"))
        .count();
    assert_eq!(gets, 1);

    // A quota error is an error, not a silent loss.
    let mut m = Message::new_default();
    m.init_root::<kv_store::writer_params::Builder>()
        .set_key("huge");
    kv_call(&mut p, interfaces::kv_store::method::WRITER, &m);
    let c = done(&mut k, &mut p).remove(0);
    let writer = reader(&c.1)
        .get_root::<kv_store::writer_results::Reader>()
        .unwrap()
        .get_writer()
        .unwrap()
        .get_cap_id();
    for _ in 0..3 {
        let mut m = Message::new_default();
        m.init_root::<kv_writer::write_params::Builder>()
            .set_data(&[7; 1500]);
        p.call(
            writer,
            interfaces::kv_writer::INTERFACE_ID,
            interfaces::kv_writer::method::WRITE,
            &words(&m),
        );
    }
    let sizes: Vec<u64> = done(&mut k, &mut p)
        .iter()
        .map(|c| {
            reader(&c.1)
                .get_root::<kv_writer::write_results::Reader>()
                .unwrap()
                .get_size()
        })
        .collect();
    assert_eq!(sizes, vec![1500, 3000, 4500]);
    p.call(
        writer,
        interfaces::kv_writer::INTERFACE_ID,
        interfaces::kv_writer::method::COMMIT,
        &words(&empty::<kv_writer::commit_params::Owned>()),
    );
    while k.poll() {}
    let (id, _, payload) = k.host().host_requests.last().unwrap().clone();
    assert_eq!(payload.len(), 4500, "the whole value in one put");
    k.host_reply(
        id,
        HostReply::Failed {
            kind: HostFailure::Quota,
            message: "QuotaExceededError: the quota has been exceeded".into(),
        },
    );
    let c = done(&mut k, &mut p).remove(0);
    assert_eq!(c.0.result, CapError::Exhausted.code());

    // Bad keys never reach the store.
    let before = k.host().host_requests.len();
    for key in [String::new(), "k".repeat(1025)] {
        let mut m = Message::new_default();
        m.init_root::<kv_store::delete_params::Builder>()
            .set_key(key.as_str());
        kv_call(&mut p, interfaces::kv_store::method::DELETE, &m);
        assert!(done(&mut k, &mut p)[0].0.result < 0);
    }
    assert_eq!(k.host().host_requests.len(), before);
}

#[test]
fn a_large_body_goes_through_an_upload_sent_once() {
    let (mut k, mut p) = boot();
    let ep = endpoint(&mut k, &mut p, "http://a.example").unwrap();
    p.call(
        ep,
        interfaces::http_endpoint::INTERFACE_ID,
        interfaces::http_endpoint::method::BEGIN,
        &fetch_params("PUT", "/upload", &[("Content-Type", "text/plain")], b""),
    );
    let c = done(&mut k, &mut p).remove(0);
    assert!(c.0.result >= 0, "{}", error_text(&c));
    let upload = reader(&c.1)
        .get_root::<http_endpoint::begin_results::Reader>()
        .unwrap()
        .get_upload()
        .unwrap()
        .get_cap_id();
    let iface = interfaces::http_upload::INTERFACE_ID;
    for _ in 0..4 {
        let mut m = Message::new_default();
        m.init_root::<http_upload::write_params::Builder>()
            .set_data(&[b'x'; 1500]);
        p.call(
            upload,
            iface,
            interfaces::http_upload::method::WRITE,
            &words(&m),
        );
    }
    assert_eq!(done(&mut k, &mut p).len(), 4);
    let send = empty::<http_upload::send_params::Owned>();
    p.call(
        upload,
        iface,
        interfaces::http_upload::method::SEND,
        &words(&send),
    );
    let (id, request) = last_request(&mut k);
    assert!(request.contains("method: \"PUT\""), "{request}");
    assert_eq!(k.host().host_requests.last().unwrap().2.len(), 6000);
    k.host_reply(id, head("http://a.example/upload"));
    body_of(&done(&mut k, &mut p)[0]);
    // Sent once: a second send, or a write after it, is refused.
    p.call(
        upload,
        iface,
        interfaces::http_upload::method::SEND,
        &words(&send),
    );
    let c = done(&mut k, &mut p).remove(0);
    assert_eq!(c.0.result, CapError::Denied.code());
    // A GET cannot begin an upload.
    p.call(
        ep,
        interfaces::http_endpoint::INTERFACE_ID,
        interfaces::http_endpoint::method::BEGIN,
        &fetch_params("GET", "/x", &[], b""),
    );
    assert!(done(&mut k, &mut p)[0].0.result < 0);
}

#[test]
fn endpoint_origin_is_reported() {
    let (mut k, mut p) = boot();
    let ep = endpoint(&mut k, &mut p, "HTTP://Example.com:80/").unwrap();
    p.call(
        ep,
        interfaces::http_endpoint::INTERFACE_ID,
        interfaces::http_endpoint::method::ORIGIN,
        &words(&empty::<http_endpoint::origin_params::Owned>()),
    );
    let c = done(&mut k, &mut p).remove(0);
    let r = reader(&c.1);
    let res = r
        .get_root::<http_endpoint::origin_results::Reader>()
        .unwrap();
    assert_eq!(res.get_origin().unwrap(), "http://example.com");
}

fn boot_page_caps() -> (Kernel<TestHost>, Proc) {
    let mut k = Kernel::new(TestHost::default(), crate::caps::init_grants);
    k.boot(&manifest(&[
        ("display", S::Display),
        ("clipboard", S::Clipboard),
    ]))
    .unwrap();
    let p = Proc::attach(&k, 1);
    (k, p)
}

fn put(p: &mut Proc, x: u32, y: u32, w: u32, h: u32, rgba: &[u8]) -> u64 {
    let (d, iface) = p.cap("display");
    let mut m = Message::new_default();
    {
        let mut put = m.init_root::<display::put_params::Builder>();
        put.set_x(x);
        put.set_y(y);
        put.set_width(w);
        put.set_height(h);
        put.set_rgba(rgba);
    }
    p.call(d, iface, interfaces::display::method::PUT, &words(&m))
}

#[test]
fn a_display_refuses_frames_of_the_wrong_size_and_presents_at_the_page_pace() {
    let (mut k, mut p) = boot_page_caps();
    // Wrong sizes and out-of-bounds rectangles: refused, saying why.
    put(&mut p, 0, 0, 2, 2, &[0; 15]);
    put(&mut p, 639, 0, 2, 1, &[0; 8]);
    put(&mut p, u32::MAX, 0, 2, 1, &[0; 8]);
    put(&mut p, 0, 479, 1, 1, &[1, 2, 3, 4]);
    let got = done(&mut k, &mut p);
    assert!(error_text(&got[0]).contains("is 16 bytes of RGBA, not 15"));
    assert!(error_text(&got[1]).contains("does not fit a 640x480 display"));
    assert!(error_text(&got[2]).contains("does not fit"));
    assert!(got[3].0.result >= 0);
    let (d, iface) = p.cap("display");
    let present = empty::<display::present_params::Owned>();
    p.call(
        d,
        iface,
        interfaces::display::method::PRESENT,
        &words(&present),
    );
    while k.poll() {}
    let requests = &k.host().host_requests;
    let (id, open, _) = &requests[requests.len() - 2];
    assert!(
        open.contains("DisplayOpen { width: 640, height: 480 }"),
        "{open}"
    );
    let (_, frame, pixels) = requests.last().unwrap();
    assert!(frame.contains("DisplayFrame"));
    assert_eq!(pixels.len(), 640 * 480 * 4);
    assert_eq!(
        &pixels[(479 * 640) * 4..][..4],
        &[1, 2, 3, 4],
        "the pixel put"
    );
    let id = *id;
    assert!(
        done(&mut k, &mut p).is_empty(),
        "parked until the page drew it"
    );
    k.host_reply(id, HostReply::DisplayDrawn);
    let c = done(&mut k, &mut p).remove(0);
    let frame = reader(&c.1)
        .get_root::<display::present_results::Reader>()
        .unwrap()
        .get_frame();
    assert_eq!(frame, 1);
    // The page closes it: a waiting nextEvent hears of it, presents fail.
    let mut m = Message::new_default();
    m.init_root::<display::next_event_params::Builder>()
        .set_timeout_ns(u64::MAX);
    p.call(
        d,
        iface,
        interfaces::display::method::NEXT_EVENT,
        &words(&m),
    );
    assert!(done(&mut k, &mut p).is_empty());
    k.host_reply(
        id,
        HostReply::DisplayEvent {
            closed: true,
            width: 0,
            height: 0,
        },
    );
    let c = done(&mut k, &mut p).remove(0);
    let event = reader(&c.1)
        .get_root::<display::next_event_results::Reader>()
        .unwrap()
        .get_event()
        .unwrap();
    assert_eq!(event, DisplayEvent::Closed);
    p.call(
        d,
        iface,
        interfaces::display::method::PRESENT,
        &words(&present),
    );
    let c = done(&mut k, &mut p).remove(0);
    assert_eq!(c.0.result, CapError::PeerGone.code());
    assert!(error_text(&c).contains("closed on the page"));
}

#[test]
fn the_page_may_refuse_the_clipboard_and_the_caller_hears_why() {
    let (mut k, mut p) = boot_page_caps();
    let (c, iface) = p.cap("clipboard");
    let mut m = Message::new_default();
    m.init_root::<clipboard::read_params::Builder>()
        .set_max(100);
    p.call(c, iface, interfaces::clipboard::method::READ, &words(&m));
    let (id, request) = last_request(&mut k);
    assert!(request.contains("ClipboardRead"));
    k.host_reply(
        id,
        HostReply::Failed {
            kind: HostFailure::Denied,
            message: "the page refused: the page does not have focus".into(),
        },
    );
    let got = done(&mut k, &mut p).remove(0);
    assert_eq!(got.0.result, CapError::Denied.code());
    assert!(error_text(&got).contains("does not have focus"));
    // Allowed: the text comes back, in parts if it is long.
    p.call(c, iface, interfaces::clipboard::method::READ, &words(&m));
    let (id, _) = last_request(&mut k);
    k.host_reply(id, HostReply::ClipboardText("é".repeat(100)));
    let got = done(&mut k, &mut p).remove(0);
    let r = reader(&got.1);
    let res = r.get_root::<clipboard::read_results::Reader>().unwrap();
    assert_eq!(res.get_size(), 200);
    assert_eq!(res.get_data().unwrap().len(), 100);
}
