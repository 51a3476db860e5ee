//! Host files (`capos run --dir`): a file left on the host is read in when
//! a program first opens it, and written back by reference while unchanged.

use super::{Message, Proc, TestHost, done, read_file, reader, words};
use crate::host::{HostFailure, HostReply};
use crate::kernel::Kernel;
use crate::view::UiEvent;
use capos_config::errno::{EFBIG, EIO};
use capos_schema::fs_capnp::{directory, file};
use capos_schema::interfaces;
use capos_schema::manifest_capnp;

const BIG: u64 = 300 << 20;

/// init holds "data": "small.txt" (host file 7, 5 bytes), "big.bin" (host
/// file 8, past what a file may hold) and "here.txt" (in the manifest).
fn boot() -> (Kernel<TestHost>, Proc) {
    let mut m = Message::new_default();
    let mut root = m.init_root::<manifest_capnp::manifest::Builder>();
    root.set_name("host-files");
    root.set_host_files("/hostfs/0a1b/");
    let mut blob = root.reborrow().init_blobs(1).get(0);
    blob.set_name("init");
    blob.set_data(b"\0asm");
    let mut mount = root.reborrow().init_mounts(1).get(0);
    mount.set_guest("/data");
    let mut files = mount.init_root().init_directory(3);
    let mut small = files.reborrow().get(0);
    small.set_name("small.txt");
    let mut host = small.init_host_file();
    host.set_id(7);
    host.set_size(5);
    let mut big = files.reborrow().get(1);
    big.set_name("big.bin");
    let mut host = big.init_host_file();
    host.set_id(8);
    host.set_size(BIG);
    let mut here = files.get(2);
    here.set_name("here.txt");
    here.set_file(b"here");
    let mut init = root.init_init();
    init.set_binary("init");
    init.reborrow().init_argv(1).set(0, "init");
    let mut grant = init.init_caps(1).get(0);
    grant.set_name("data");
    grant.init_source().set_mount(0);
    let mut k = Kernel::new(TestHost::default(), crate::caps::init_grants);
    k.boot(&words(&m)).unwrap();
    let p = Proc::attach(&k, 1);
    (k, p)
}

fn send_open(p: &mut Proc, path: &str, truncate: bool) {
    let (data, iface) = p.cap("data");
    let mut m = Message::new_default();
    let mut params = m.init_root::<directory::open_params::Builder>();
    params.set_path(path);
    let mut flags = params.init_flags();
    flags.set_truncate(truncate);
    flags.set_follow_symlinks(true);
    p.call(data, iface, interfaces::directory::method::OPEN, &words(&m));
}

/// (errno, File cap id) of an open's completion.
fn opened(c: &(capos_config::ring::Cqe, Vec<u8>)) -> (u16, u32) {
    assert_eq!(c.0.result, 0, "{}", String::from_utf8_lossy(&c.1));
    let r = reader(&c.1);
    let res = r.get_root::<directory::open_results::Reader>().unwrap();
    let cap = if res.has_cap() {
        res.get_cap().unwrap().get_cap_id()
    } else {
        0
    };
    (res.get_errno(), cap)
}

fn size_of(k: &mut Kernel<TestHost>, p: &mut Proc, path: &str) -> u64 {
    let (data, iface) = p.cap("data");
    let mut m = Message::new_default();
    m.init_root::<directory::stat_params::Builder>()
        .set_path(path);
    p.call(data, iface, interfaces::directory::method::STAT, &words(&m));
    let c = done(k, p).remove(0);
    let r = reader(&c.1);
    let res = r.get_root::<directory::stat_results::Reader>().unwrap();
    assert_eq!(res.get_errno(), 0);
    res.get_stat().unwrap().get_size()
}

/// The host reads asked for so far: (id, request text).
fn reads(k: &Kernel<TestHost>) -> Vec<(u32, String)> {
    k.host()
        .host_requests
        .iter()
        .filter(|r| r.1.starts_with("HostFileRead"))
        .map(|r| (r.0, r.1.clone()))
        .collect()
}

/// What init's exit reported of the mount: (path, origin, upload).
fn written_back(k: &mut Kernel<TestHost>) -> Vec<(String, Option<u64>, Option<u64>)> {
    k.process_exited(1, 0);
    let mounts = k
        .host()
        .events
        .iter()
        .find_map(|e| match e {
            UiEvent::Filesystems { mounts } => Some(mounts.clone()),
            _ => None,
        })
        .expect("the mounts are reported at halt");
    mounts[0]
        .entries
        .iter()
        .map(|e| {
            assert!(e.data.is_empty(), "bytes travel as uploads");
            (e.path.clone(), e.origin, e.upload)
        })
        .collect()
}

/// The uploads sent at halt: (request text, bytes).
fn uploads(k: &Kernel<TestHost>) -> Vec<(String, Vec<u8>)> {
    k.host()
        .host_requests
        .iter()
        .filter(|r| r.1.starts_with("HostFileWrite"))
        .map(|r| (r.1.clone(), r.2.clone()))
        .collect()
}

#[test]
fn a_host_file_is_read_on_its_first_open_only() {
    let (mut k, mut p) = boot();
    assert!(reads(&k).is_empty(), "nothing is read at boot");
    assert_eq!(
        size_of(&mut k, &mut p, "small.txt"),
        5,
        "stat needs no read"
    );
    assert!(reads(&k).is_empty());
    send_open(&mut p, "small.txt", false);
    assert!(
        done(&mut k, &mut p).is_empty(),
        "the open waits for the bytes"
    );
    let asked = reads(&k);
    assert_eq!(asked.len(), 1);
    assert!(
        asked[0].1.contains("url: \"/hostfs/0a1b/7\", size: 5"),
        "{}",
        asked[0].1
    );
    // The file grew on the host since the run began: it is taken as it is now.
    k.host_reply(asked[0].0, HostReply::FileData(b"hello!".to_vec()));
    let (errno, f) = opened(&done(&mut k, &mut p)[0]);
    assert_eq!(errno, 0);
    assert_eq!(read_file(&mut k, &mut p, f), b"hello!");
    assert_eq!(size_of(&mut k, &mut p, "small.txt"), 6);
    send_open(&mut p, "small.txt", false);
    let (errno, again) = opened(&done(&mut k, &mut p)[0]);
    assert_eq!((errno, reads(&k).len()), (0, 1), "read in once");
    assert_eq!(read_file(&mut k, &mut p, again), b"hello!");
    // Unchanged: written back by reference, not by its bytes.
    let back = written_back(&mut k);
    assert!(
        back.contains(&("small.txt".into(), Some(7), None)),
        "{back:?}"
    );
    assert!(
        back.contains(&("big.bin".into(), Some(8), None)),
        "{back:?}"
    );
    assert!(
        back.contains(&("here.txt".into(), None, Some(0))),
        "{back:?}"
    );
    let sent = uploads(&k);
    assert_eq!(sent.len(), 1, "only the file that is not the host's");
    assert!(
        sent[0].0.contains("url: \"/hostfs/0a1b/out/0\""),
        "{}",
        sent[0].0
    );
    assert_eq!(sent[0].1, b"here");
}

#[test]
fn a_file_the_host_cannot_read_fails_its_open_with_eio_and_grants_nothing() {
    let (mut k, mut p) = boot();
    send_open(&mut p, "small.txt", false);
    done(&mut k, &mut p);
    let id = reads(&k)[0].0;
    k.host_reply(
        id,
        HostReply::Failed {
            kind: HostFailure::Other,
            message: "/hostfs/0a1b/7: 404 gone".into(),
        },
    );
    assert_eq!(opened(&done(&mut k, &mut p)[0]), (EIO, 0));
    // Nothing was loaded: the next open asks again.
    send_open(&mut p, "small.txt", false);
    done(&mut k, &mut p);
    assert_eq!(reads(&k).len(), 2);
}

#[test]
fn a_host_file_too_large_to_hold_is_efbig_without_a_read() {
    let (mut k, mut p) = boot();
    assert_eq!(size_of(&mut k, &mut p, "big.bin"), BIG);
    send_open(&mut p, "big.bin", false);
    assert_eq!(opened(&done(&mut k, &mut p)[0]), (EFBIG, 0));
    assert!(reads(&k).is_empty());
}

#[test]
fn an_open_that_empties_a_host_file_reads_nothing_and_writes_it_back_by_its_bytes() {
    let (mut k, mut p) = boot();
    send_open(&mut p, "big.bin", true);
    let (errno, f) = opened(&done(&mut k, &mut p)[0]);
    assert_eq!(errno, 0);
    assert!(reads(&k).is_empty());
    assert_eq!(read_file(&mut k, &mut p, f), b"");
    assert_eq!(size_of(&mut k, &mut p, "big.bin"), 0);
    let back = written_back(&mut k);
    assert!(
        back.contains(&("big.bin".into(), None, Some(0))),
        "{back:?}"
    );
    assert_eq!(uploads(&k)[0].1, b"");
}

#[test]
fn bytes_arriving_after_the_opener_exited_are_taken_quietly() {
    let (mut k, mut p) = boot();
    send_open(&mut p, "small.txt", false);
    done(&mut k, &mut p);
    let id = reads(&k)[0].0;
    k.process_exited(1, 0);
    k.host_reply(id, HostReply::FileData(b"late".to_vec()));
    while k.poll() {}
    assert!(k.is_halted());
}

#[test]
fn a_host_file_written_to_is_written_back_by_its_bytes() {
    let (mut k, mut p) = boot();
    send_open(&mut p, "small.txt", false);
    done(&mut k, &mut p);
    k.host_reply(reads(&k)[0].0, HostReply::FileData(b"hello".to_vec()));
    let (_, f) = opened(&done(&mut k, &mut p)[0]);
    let mut m = Message::new_default();
    let mut params = m.init_root::<file::write_params::Builder>();
    params.set_data(b"J");
    params.set_offset(0);
    p.call(
        f,
        interfaces::file::INTERFACE_ID,
        interfaces::file::method::WRITE,
        &words(&m),
    );
    done(&mut k, &mut p);
    let back = written_back(&mut k);
    let n = back.iter().find(|e| e.0 == "small.txt").and_then(|e| e.2);
    let sent = uploads(&k);
    assert_eq!(sent[n.unwrap() as usize].1, b"Jello", "{back:?}");
}

#[test]
fn a_mount_128_directories_deep_boots_and_one_deeper_is_refused() {
    let manifest = |depth: usize| {
        let mut m = Message::new_default();
        let mut root = m.init_root::<manifest_capnp::manifest::Builder>();
        root.set_name("deep");
        let mut blob = root.reborrow().init_blobs(1).get(0);
        blob.set_name("init");
        blob.set_data(b"\0asm");
        let mount = root.reborrow().init_mounts(1).get(0);
        let mut node = mount.init_root();
        for _ in 0..depth {
            let mut child = node.init_directory(1).get(0);
            child.set_name("d");
            node = child;
        }
        node.init_directory(0);
        let mut init = root.init_init();
        init.set_binary("init");
        init.init_argv(1).set(0, "init");
        words(&m)
    };
    let mut k = Kernel::new(TestHost::default(), crate::caps::init_grants);
    k.boot(&manifest(128)).unwrap();
    let mut k = Kernel::new(TestHost::default(), crate::caps::init_grants);
    let err = k.boot(&manifest(129)).unwrap_err();
    assert!(err.contains("nests too deeply"), "{err}");
}
