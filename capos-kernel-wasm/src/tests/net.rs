//! Listener and Stream against a host whose connections the test plays.

use super::{Message, Proc, TestHost, done, error_text, reader, words};
use crate::host::{HostFailure, HostReply};
use crate::kernel::Kernel;
use capos_config::ring::{CapError, Cqe, OP_RELEASE, Sqe};
use capos_schema::interfaces;
use capos_schema::manifest_capnp;
use capos_schema::net_capnp::{listener, stream};

/// A manifest whose init holds a Console and a Listener on each of `ports`.
fn manifest(ports: &[u16]) -> Vec<u8> {
    super::manifest_listening(
        &[("console", manifest_capnp::KernelService::Console)],
        ports,
    )
}

fn boot(ports: &[u16]) -> (Kernel<TestHost>, Proc) {
    let mut k = Kernel::new(TestHost::default(), crate::caps::init_grants);
    let pid = k.boot(&manifest(ports)).unwrap();
    let p = Proc::attach(&k, pid);
    (k, p)
}

/// The host requests made for exchange `id`, as Debug text, with payloads.
fn requests(k: &Kernel<TestHost>, id: u32) -> Vec<(String, Vec<u8>)> {
    k.host()
        .host_requests
        .iter()
        .filter(|r| r.0 == id)
        .map(|r| (r.1.clone(), r.2.clone()))
        .collect()
}

fn accept(p: &mut Proc, wait: bool) -> u64 {
    let (id, iface) = p.cap("listen.0");
    let mut m = Message::new_default();
    m.init_root::<listener::accept_params::Builder>()
        .set_wait(wait);
    p.call(id, iface, interfaces::listener::method::ACCEPT, &words(&m))
}

/// An accept's stream cap, connection number and peer; `None` for wouldBlock.
fn accepted(c: &(Cqe, Vec<u8>)) -> Option<(u32, u64, String)> {
    assert!(c.0.result >= 0, "accept failed: {}", error_text(c));
    let r = reader(&c.1);
    let res = r.get_root::<listener::accept_results::Reader>().unwrap();
    if res.get_would_block() {
        return None;
    }
    Some((
        res.get_stream().unwrap().get_cap_id(),
        res.get_connection(),
        res.get_peer().unwrap().to_string().unwrap(),
    ))
}

fn read(p: &mut Proc, s: u32, max: u32, wait: bool, peek: bool) -> u64 {
    let mut m = Message::new_default();
    let mut r = m.init_root::<stream::read_params::Builder>();
    r.set_max(max);
    r.set_wait(wait);
    r.set_peek(peek);
    p.call(
        s,
        interfaces::stream::INTERFACE_ID,
        interfaces::stream::method::READ,
        &words(&m),
    )
}

/// (data, eof, wouldBlock)
fn read_result(c: &(Cqe, Vec<u8>)) -> (Vec<u8>, bool, bool) {
    assert!(c.0.result >= 0, "read failed: {}", error_text(c));
    let r = reader(&c.1);
    let res = r.get_root::<stream::read_results::Reader>().unwrap();
    (
        res.get_data().unwrap().to_vec(),
        res.get_eof(),
        res.get_would_block(),
    )
}

fn write(p: &mut Proc, s: u32, data: &[u8], wait: bool) -> u64 {
    let mut m = Message::new_default();
    let mut r = m.init_root::<stream::write_params::Builder>();
    r.set_data(data);
    r.set_wait(wait);
    p.call(
        s,
        interfaces::stream::INTERFACE_ID,
        interfaces::stream::method::WRITE,
        &words(&m),
    )
}

/// (written, wouldBlock)
fn write_result(c: &(Cqe, Vec<u8>)) -> (u32, bool) {
    assert!(c.0.result >= 0, "write failed: {}", error_text(c));
    let r = reader(&c.1);
    let res = r.get_root::<stream::write_results::Reader>().unwrap();
    (res.get_written(), res.get_would_block())
}

/// Polls for a connection to accept and for `interests` (connection,
/// read, write).
fn poll(p: &mut Proc, interests: &[(u64, bool, bool)], timeout_ns: u64) -> u64 {
    let (id, iface) = p.cap("listen.0");
    let mut m = Message::new_default();
    let mut r = m.init_root::<listener::poll_params::Builder>();
    r.set_timeout_ns(timeout_ns);
    r.set_accept(true);
    let mut list = r.init_interests(interests.len() as u32);
    for (i, &(c, read, write)) in interests.iter().enumerate() {
        let mut e = list.reborrow().get(i as u32);
        e.set_connection(c);
        e.set_read(read);
        e.set_write(write);
    }
    p.call(id, iface, interfaces::listener::method::POLL, &words(&m))
}

/// (acceptable, [(connection, readable, writable)])
fn poll_result(c: &(Cqe, Vec<u8>)) -> (bool, Vec<(u64, bool, bool)>) {
    assert!(c.0.result >= 0, "poll failed: {}", error_text(c));
    let r = reader(&c.1);
    let res = r.get_root::<listener::poll_results::Reader>().unwrap();
    let ready = res
        .get_ready()
        .unwrap()
        .iter()
        .map(|r| (r.get_connection(), r.get_readable(), r.get_writable()))
        .collect();
    (res.get_acceptable(), ready)
}

fn release(p: &mut Proc, cap_id: u32) {
    p.submit(
        Sqe {
            cap_id,
            opcode: OP_RELEASE,
            ..Sqe::default()
        },
        &[],
    );
}

/// Connects to `port` and accepts it: (exchange id, stream cap).
fn connected(k: &mut Kernel<TestHost>, p: &mut Proc, port: u16) -> (u32, u32) {
    let id = k.connect(port, "127.0.0.1:5000").unwrap();
    accept(p, true);
    let (stream, _, _) = accepted(&done(k, p)[0]).expect("a connection");
    (id, stream)
}

#[test]
fn a_connection_reaches_the_listener_and_bytes_flow_both_ways() {
    let (mut k, mut p) = boot(&[8080]);
    // Nothing waits yet: a non-blocking accept says so.
    accept(&mut p, false);
    assert_eq!(accepted(&done(&mut k, &mut p)[0]), None);
    // A blocking accept waits for the connection.
    accept(&mut p, true);
    assert!(done(&mut k, &mut p).is_empty());
    let id = k.connect(8080, "preview").unwrap();
    let (s, number, peer) = accepted(&done(&mut k, &mut p)[0]).unwrap();
    assert_eq!((number, peer.as_str()), (1, "preview"));
    // The first chunk was asked for at once.
    assert_eq!(requests(&k, id)[0].0, "NetPull");
    read(&mut p, s, 1024, true, false);
    assert!(done(&mut k, &mut p).is_empty(), "nothing to read yet");
    k.host_reply(id, HostReply::NetData(b"GET / HTTP/1.1\r\n\r\n".to_vec()));
    let c = done(&mut k, &mut p);
    assert_eq!(read_result(&c[0]).0, b"GET / HTTP/1.1\r\n\r\n");
    assert_eq!(requests(&k, id).len(), 2, "the next chunk is asked for");
    // A peek leaves the bytes to be read again; `max` bounds a read.
    k.host_reply(id, HostReply::NetData(b"abcdef".to_vec()));
    read(&mut p, s, 3, false, true);
    read(&mut p, s, 4, false, false);
    read(&mut p, s, 100, false, false);
    let c = done(&mut k, &mut p);
    assert_eq!(read_result(&c[0]).0, b"abc");
    assert_eq!(read_result(&c[1]).0, b"abcd");
    assert_eq!(read_result(&c[2]).0, b"ef");
    read(&mut p, s, 100, false, false);
    assert_eq!(read_result(&done(&mut k, &mut p)[0]), (vec![], false, true));
    // The peer finished sending: reads see the end.
    k.host_reply(id, HostReply::NetEnd);
    read(&mut p, s, 100, true, false);
    assert_eq!(read_result(&done(&mut k, &mut p)[0]), (vec![], true, false));
    // Writes reach the host as they are.
    write(&mut p, s, b"HTTP/1.1 200 OK\r\n\r\n\x00\xff", true);
    assert_eq!(write_result(&done(&mut k, &mut p)[0]), (21, false));
    let sent = requests(&k, id);
    assert_eq!(sent.last().unwrap().1, b"HTTP/1.1 200 OK\r\n\r\n\x00\xff");
    // Releasing the stream closes the connection (after what was sent).
    release(&mut p, s);
    done(&mut k, &mut p);
    assert_eq!(requests(&k, id).last().unwrap().0, "NetClose");
    assert_eq!(k.stats().host_requests, 0, "the exchange is over");
}

#[test]
fn nothing_listening_or_a_full_backlog_refuses_the_connection() {
    let (mut k, mut p) = boot(&[8080]);
    let refused = k.connect(9999, "preview").unwrap_err();
    assert!(
        refused.contains("nothing listens on port 9999"),
        "{refused}"
    );
    for _ in 0..crate::caps::net::BACKLOG {
        k.connect(8080, "preview").unwrap();
    }
    let refused = k.connect(8080, "preview").unwrap_err();
    assert!(refused.contains("wait to be accepted"), "{refused}");
    assert!(done(&mut k, &mut p).is_empty());
}

#[test]
fn a_port_is_granted_once_and_port_zero_is_not_a_port() {
    for ports in [&[8080, 8080][..], &[0][..]] {
        let mut k = Kernel::new(TestHost::default(), crate::caps::init_grants);
        let e = k.boot(&manifest(ports)).unwrap_err();
        assert!(e.contains("port"), "{e}");
        assert!(k.host().started.is_empty(), "nothing started");
    }
}

#[test]
fn a_client_that_stops_reading_stops_the_writer_at_the_window() {
    let (mut k, mut p) = boot(&[8080]);
    let (id, s) = connected(&mut k, &mut p, 8080);
    let chunk = vec![7u8; 1900];
    let mut written = 0;
    // Without waiting, writes take what fits in the window, then none.
    loop {
        write(&mut p, s, &chunk, false);
        let (n, would_block) = write_result(&done(&mut k, &mut p)[0]);
        written += n as usize;
        if would_block {
            assert_eq!(n, 0);
            break;
        }
    }
    assert_eq!(written, crate::caps::net::WRITE_WINDOW);
    // A waiting write parks until the peer takes what was sent.
    write(&mut p, s, b"more", true);
    assert!(done(&mut k, &mut p).is_empty());
    k.host_reply(id, HostReply::NetSent);
    assert_eq!(write_result(&done(&mut k, &mut p)[0]), (4, false));
    assert_eq!(requests(&k, id).last().unwrap().1, b"more");
}

#[test]
fn a_reset_fails_the_reader_and_a_write_after_it() {
    let (mut k, mut p) = boot(&[8080]);
    let (id, s) = connected(&mut k, &mut p, 8080);
    read(&mut p, s, 10, true, false);
    k.host_reply(
        id,
        HostReply::Failed {
            kind: HostFailure::Network,
            message: "the client closed the connection".into(),
        },
    );
    let c = done(&mut k, &mut p);
    assert_eq!(c[0].0.result, CapError::PeerGone.code());
    assert!(error_text(&c[0]).contains("the client closed the connection"));
    write(&mut p, s, b"late", true);
    let c = done(&mut k, &mut p);
    assert_eq!(c[0].0.result, CapError::PeerGone.code());
    // The kernel and the listener carry on.
    let (_, s2) = connected(&mut k, &mut p, 8080);
    assert_ne!(s, s2);
}

#[test]
fn poll_waits_for_a_connection_data_or_its_timeout() {
    let (mut k, mut p) = boot(&[8080]);
    poll(&mut p, &[], 0);
    assert_eq!(poll_result(&done(&mut k, &mut p)[0]), (false, vec![]));
    poll(&mut p, &[], u64::MAX);
    assert!(done(&mut k, &mut p).is_empty());
    let id = k.connect(8080, "preview").unwrap();
    assert_eq!(poll_result(&done(&mut k, &mut p)[0]), (true, vec![]));
    accept(&mut p, true);
    let (_, number, _) = accepted(&done(&mut k, &mut p)[0]).unwrap();
    // Writable at once (the window is empty); readable once bytes come.
    poll(&mut p, &[(number, true, true), (99, true, false)], 0);
    assert_eq!(
        poll_result(&done(&mut k, &mut p)[0]),
        (false, vec![(number, false, true), (99, true, false)])
    );
    poll(&mut p, &[(number, true, false)], u64::MAX);
    assert!(done(&mut k, &mut p).is_empty(), "not readable yet");
    k.host_reply(id, HostReply::NetData(b"x".to_vec()));
    assert_eq!(
        poll_result(&done(&mut k, &mut p)[0]),
        (false, vec![(number, true, false)])
    );
    // A timeout fires through the kernel's timers.
    poll(&mut p, &[], 5_000_000);
    assert!(done(&mut k, &mut p).is_empty());
    while k.next_deadline_ms().is_some() {
        k.poll_at(u64::MAX / 2);
    }
    assert_eq!(poll_result(&done(&mut k, &mut p)[0]), (false, vec![]));
}

#[test]
fn exiting_frees_the_port_and_closes_its_connections() {
    let (mut k, mut p) = boot(&[8080, 8081]);
    let (id, _s) = connected(&mut k, &mut p, 8080);
    let queued = k.connect(8080, "preview").unwrap();
    k.process_exited(p.pid, 0);
    while k.poll() {}
    assert_eq!(requests(&k, id).last().unwrap().0, "NetClose");
    assert_eq!(requests(&k, queued).last().unwrap().0, "NetClose");
    assert_eq!(k.stats().host_requests, 0);
    assert!(k.connect(8081, "preview").is_err());
}
