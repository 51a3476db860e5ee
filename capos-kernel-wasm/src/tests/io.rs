//! Terminal input, timers and randomness, as a WASI process uses them.

use super::{Proc, TestHost, manifest};
use crate::kernel::Kernel;
use crate::view::{Stream, UiEvent};
use capos_config::ring::Cqe;
use capos_schema::interfaces::{console, random_source, timer};
use capos_schema::manifest_capnp::KernelService as S;
use capos_schema::{console_capnp, random_capnp, timer_capnp};

type Message = capnp::message::Builder<capnp::message::HeapAllocator>;

fn bytes(m: &Message) -> Vec<u8> {
    capnp::serialize::write_message_to_words(m)
}

fn reader(data: &[u8]) -> capnp::message::Reader<capnp::serialize::OwnedSegments> {
    capnp::serialize::read_message(&mut &data[..], capnp::message::ReaderOptions::new()).unwrap()
}

fn boot() -> (Kernel<TestHost>, Proc) {
    let mut k = Kernel::new(TestHost::default(), crate::caps::init_grants);
    k.boot(&manifest(&[
        ("stdin", S::Console),
        ("stderr", S::Stderr),
        ("timer", S::Timer),
        ("random", S::Random),
    ]))
    .unwrap();
    let p = Proc::attach(&k, 1);
    (k, p)
}

fn read_params(max: u32) -> Vec<u8> {
    let mut m = Message::new_default();
    m.init_root::<console_capnp::console::read_params::Builder>()
        .set_max(max);
    bytes(&m)
}

fn done(k: &mut Kernel<TestHost>, p: &mut Proc) -> Vec<(Cqe, Vec<u8>)> {
    while k.poll() {}
    p.raw_completions()
}

#[test]
fn a_read_blocks_until_input_arrives_and_sees_eof_after_it() {
    let (mut k, mut p) = boot();
    let (stdin, iface) = p.cap("stdin");
    p.call(stdin, iface, console::method::READ, &read_params(4));
    assert!(
        done(&mut k, &mut p).is_empty(),
        "blocked: nothing typed yet"
    );
    k.terminal_input(b"hello\n");
    let got = done(&mut k, &mut p);
    let r = reader(&got[0].1);
    let res = r
        .get_root::<console_capnp::console::read_results::Reader>()
        .unwrap();
    assert_eq!(
        (res.get_data().unwrap(), res.get_eof()),
        (&b"hell"[..], false),
        "at most max bytes"
    );
    p.call(stdin, iface, console::method::READ, &read_params(64));
    let got = done(&mut k, &mut p);
    let r = reader(&got[0].1);
    assert_eq!(
        r.get_root::<console_capnp::console::read_results::Reader>()
            .unwrap()
            .get_data()
            .unwrap(),
        b"o\n"
    );
    k.terminal_eof();
    p.call(stdin, iface, console::method::READ, &read_params(64));
    let got = done(&mut k, &mut p);
    let r = reader(&got[0].1);
    let res = r
        .get_root::<console_capnp::console::read_results::Reader>()
        .unwrap();
    assert!(res.get_data().unwrap().is_empty() && res.get_eof());
}

#[test]
fn wait_readable_times_out_through_a_kernel_timer() {
    let (mut k, mut p) = boot();
    let (stdin, iface) = p.cap("stdin");
    let mut m = Message::new_default();
    m.init_root::<console_capnp::console::wait_readable_params::Builder>()
        .set_timeout_ns(50_000);
    p.call(stdin, iface, console::method::WAIT_READABLE, &bytes(&m));
    let mut polls = 0;
    let got = loop {
        k.poll();
        polls += 1;
        let got = p.raw_completions();
        if !got.is_empty() {
            break got;
        }
        assert!(
            k.next_deadline_ms().is_some(),
            "a timer is armed while waiting"
        );
        assert!(polls < 1000, "the timeout never fired");
    };
    let r = reader(&got[0].1);
    assert!(
        !r.get_root::<console_capnp::console::wait_readable_results::Reader>()
            .unwrap()
            .get_ready()
    );
    assert!(k.next_deadline_ms().is_none(), "and disarmed after");
}

#[test]
fn sleep_completes_only_after_its_deadline() {
    let (mut k, mut p) = boot();
    let (t, iface) = p.cap("timer");
    let mut m = Message::new_default();
    m.init_root::<timer_capnp::timer::sleep_params::Builder>()
        .set_ns(10_000);
    p.call(t, iface, timer::method::SLEEP, &bytes(&m));
    k.poll();
    assert!(p.raw_completions().is_empty());
    // The test clock advances 1 us per reading.
    for _ in 0..20 {
        k.poll();
    }
    assert_eq!(p.raw_completions().len(), 1);
}

#[test]
fn random_fills_and_refuses_oversized_requests() {
    let (mut k, mut p) = boot();
    let (r, iface) = p.cap("random");
    let mut m = Message::new_default();
    m.init_root::<random_capnp::random_source::fill_params::Builder>()
        .set_len(16);
    p.call(r, iface, random_source::method::FILL, &bytes(&m));
    let got = done(&mut k, &mut p);
    let rd = reader(&got[0].1);
    assert_eq!(
        rd.get_root::<random_capnp::random_source::fill_results::Reader>()
            .unwrap()
            .get_data()
            .unwrap()
            .len(),
        16
    );
    let mut m = Message::new_default();
    m.init_root::<random_capnp::random_source::fill_params::Builder>()
        .set_len(1 << 20);
    p.call(r, iface, random_source::method::FILL, &bytes(&m));
    let got = done(&mut k, &mut p);
    assert!(got[0].0.error().is_some());
}

#[test]
fn stderr_console_writes_to_the_error_stream() {
    let (mut k, mut p) = boot();
    let (e, iface) = p.cap("stderr");
    p.call(
        e,
        iface,
        console::method::WRITE,
        &super::write_params("oops\n"),
    );
    done(&mut k, &mut p);
    assert!(k.host().events.contains(&UiEvent::Console {
        pid: 1,
        stream: Stream::Stderr,
        data: b"oops\n".to_vec()
    }));
}

#[test]
fn console_carries_bytes_exactly() {
    let (mut k, mut p) = boot();
    let (out, iface) = p.cap("stdin"); // A Console: it writes too.
    // Every byte value, then one UTF-8 character split across two writes.
    let all: Vec<u8> = (0..=255).collect();
    for data in [&all[..], &[0xc3], &[0xa9]] {
        p.call(
            out,
            iface,
            console::method::WRITE,
            &super::write_bytes_params(data),
        );
    }
    done(&mut k, &mut p);
    let mut expected = all.clone();
    expected.extend([0xc3, 0xa9]);
    assert_eq!(super::console_bytes(&k), expected);
}

fn is_terminal(k: &mut Kernel<TestHost>, p: &mut Proc, name: &str) -> (bool, bool) {
    let (cap, iface) = p.cap(name);
    let mut m = Message::new_default();
    m.init_root::<console_capnp::console::is_terminal_params::Builder>();
    p.call(cap, iface, console::method::IS_TERMINAL, &bytes(&m));
    let got = done(k, p);
    let r = reader(&got[0].1);
    let res = r
        .get_root::<console_capnp::console::is_terminal_results::Reader>()
        .unwrap();
    (res.get_input(), res.get_output())
}

#[test]
fn stdio_is_a_terminal_unless_the_manifest_says_otherwise() {
    let (mut k, mut p) = boot();
    // The manifest says nothing: a terminal, as on the page.
    assert_eq!(is_terminal(&mut k, &mut p, "stdin"), (true, true));
    assert_eq!(is_terminal(&mut k, &mut p, "stderr"), (true, true));

    // `capos run ... | cat` with a terminal on stdin and stderr.
    use capos_schema::manifest_capnp::manifest;
    let plain = manifest(&[("stdout", S::Console), ("stderr", S::Stderr)]);
    let plain = reader(&plain);
    let mut copy = Message::new_default();
    copy.set_root(plain.get_root::<manifest::Reader>().unwrap())
        .unwrap();
    let mut terminal = copy
        .get_root::<manifest::Builder>()
        .unwrap()
        .init_terminal();
    terminal.set_input(true);
    terminal.set_stdout(false);
    terminal.set_stderr(true);
    let mut k = Kernel::new(TestHost::default(), crate::caps::init_grants);
    k.boot(&bytes(&copy)).unwrap();
    let mut p = Proc::attach(&k, 1);
    assert_eq!(is_terminal(&mut k, &mut p, "stdout"), (true, false));
    assert_eq!(is_terminal(&mut k, &mut p, "stderr"), (true, true));
}
