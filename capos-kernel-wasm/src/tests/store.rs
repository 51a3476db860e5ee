//! Persistent volumes: what a commit sends the host, what `sync` waits for,
//! the quota, a failed commit, and a tree read back from what was stored.

use super::{Message, Proc, TestHost, done, read_file, reader, words};
use crate::caps::volume::index_blobs;
use crate::host::{HostFailure, HostReply, StoreImage};
use crate::kernel::Kernel;
use crate::view::UiEvent;
use capos_config::errno::{EIO, ENOSPC};
use capos_config::ring::{Cqe, OP_RELEASE, Sqe};
use capos_schema::fs_capnp::{directory, file};
use capos_schema::interfaces;
use capos_schema::manifest_capnp;
use capos_schema::store_capnp::store_index;
use std::collections::HashMap;

/// A manifest whose init holds "home", a persistent mount of store
/// "home" seeded with `seed.txt`, limited to `quota` bytes (0: none).
fn manifest(quota: u64) -> Vec<u8> {
    let mut m = Message::new_default();
    let mut root = m.init_root::<manifest_capnp::manifest::Builder>();
    root.set_name("store-test");
    let mut blob = root.reborrow().init_blobs(1).get(0);
    blob.set_name("init");
    blob.set_data(b"\0asm");
    let mut mount = root.reborrow().init_mounts(1).get(0);
    mount.set_guest("/home");
    mount.set_store("home");
    mount.set_quota_bytes(quota);
    let mut seed = mount.init_root().init_directory(1).get(0);
    seed.set_name("seed.txt");
    seed.set_file(b"seeded");
    let mut init = root.init_init();
    init.set_binary("init");
    init.reborrow().init_argv(1).set(0, "init");
    let mut grant = init.init_caps(1).get(0);
    grant.set_name("home");
    grant.init_source().set_mount(0);
    words(&m)
}

fn boot(image: StoreImage, quota: u64) -> (Kernel<TestHost>, Proc) {
    let mut k = Kernel::new(TestHost::default(), crate::caps::init_grants);
    k.add_store_image(image);
    k.boot(&manifest(quota)).unwrap();
    let p = Proc::attach(&k, 1);
    (k, p)
}

/// A new store whose seed has been committed.
fn seeded() -> (Kernel<TestHost>, Proc) {
    let (mut k, p) = boot(new_store(), 0);
    later(&mut k);
    let first = commits(&k);
    k.host_reply(first[0].id, HostReply::Done);
    (k, p)
}

fn new_store() -> StoreImage {
    StoreImage {
        name: "home".into(),
        available_bytes: 1 << 30,
        ..StoreImage::default()
    }
}

/// Lets the commit delay pass.
fn later(k: &mut Kernel<TestHost>) {
    k.host_mut().clock += 50_000_000;
    while k.poll() {}
}

/// Opens `path` (creating it) in the home directory; the File's cap id.
fn open(k: &mut Kernel<TestHost>, p: &mut Proc, path: &str) -> u32 {
    open_with(k, p, path, true)
}

fn open_with(k: &mut Kernel<TestHost>, p: &mut Proc, path: &str, create: bool) -> u32 {
    let (home, iface) = p.cap("home");
    let mut m = Message::new_default();
    let mut params = m.init_root::<directory::open_params::Builder>();
    params.set_path(path);
    params.reborrow().init_flags().set_create(create);
    p.call(home, iface, interfaces::directory::method::OPEN, &words(&m));
    let c = done(k, p).remove(0);
    let r = reader(&c.1);
    let res = r.get_root::<directory::open_results::Reader>().unwrap();
    assert_eq!(res.get_errno(), 0, "open {path}");
    res.get_cap().unwrap().get_cap_id()
}

fn write(k: &mut Kernel<TestHost>, p: &mut Proc, f: u32, data: &[u8]) -> u16 {
    let mut m = Message::new_default();
    let mut params = m.init_root::<file::write_params::Builder>();
    params.set_data(data);
    params.set_append(true);
    p.call(
        f,
        interfaces::file::INTERFACE_ID,
        interfaces::file::method::WRITE,
        &words(&m),
    );
    let c = done(k, p).remove(0);
    reader(&c.1)
        .get_root::<file::write_results::Reader>()
        .unwrap()
        .get_errno()
}

/// Releases a capability (what closing a file does).
fn release(k: &mut Kernel<TestHost>, p: &mut Proc, cap: u32) {
    p.submit(
        Sqe {
            cap_id: cap,
            opcode: OP_RELEASE,
            ..Sqe::default()
        },
        &[],
    );
    done(k, p);
}

/// Calls File.sync; its user_data (the completion comes when the commit does).
fn sync(p: &mut Proc, f: u32) -> u64 {
    let m = {
        let mut m = Message::new_default();
        m.init_root::<file::sync_params::Builder>();
        m
    };
    p.call(
        f,
        interfaces::file::INTERFACE_ID,
        interfaces::file::method::SYNC,
        &words(&m),
    )
}

fn sync_errno(c: &(Cqe, Vec<u8>)) -> u16 {
    reader(&c.1)
        .get_root::<file::sync_results::Reader>()
        .unwrap()
        .get_errno()
}

/// A commit the host was asked for: its id, and the store it would leave
/// (index and the blobs it added).
struct Commit {
    id: u32,
    text: String,
    index: Vec<u8>,
    blobs: HashMap<u64, Vec<u8>>,
}

fn commits(k: &Kernel<TestHost>) -> Vec<Commit> {
    k.host()
        .host_requests
        .iter()
        .filter(|(_, text, _)| text.starts_with("StoreCommit"))
        .map(|(id, text, payload)| {
            let field = |name: &str| {
                let at = text.find(&format!("{name}: ")).unwrap() + name.len() + 2;
                text[at..]
                    .split([',', ' ', '}'])
                    .next()
                    .unwrap()
                    .to_string()
            };
            let index_len: usize = field("index_bytes").parse().unwrap();
            let index = payload[..index_len].to_vec();
            // The blobs follow in the order the request lists them.
            let listed = text[text.find("blobs: [").unwrap() + 8..]
                .split(']')
                .next()
                .unwrap()
                .to_string();
            let mut at = index_len;
            let mut blobs = HashMap::new();
            for pair in listed.split("), (").filter(|s| !s.is_empty()) {
                let nums: Vec<u64> = pair
                    .trim_matches(['(', ')'])
                    .split(", ")
                    .map(|n| n.parse().unwrap())
                    .collect();
                let len = nums[1] as usize;
                blobs.insert(nums[0], payload[at..at + len].to_vec());
                at += len;
            }
            assert_eq!(at, payload.len(), "the payload is the index and the blobs");
            Commit {
                id: *id,
                text: text.clone(),
                index,
                blobs,
            }
        })
        .collect()
}

/// What the host would hold after applying `commits` in order.
fn stored(commits: &[Commit]) -> StoreImage {
    let mut blobs = HashMap::new();
    for c in commits {
        blobs.extend(c.blobs.clone());
    }
    let index = commits.last().unwrap().index.clone();
    let named = index_blobs(&index).unwrap();
    blobs.retain(|id, _| named.contains(id));
    StoreImage {
        name: "home".into(),
        index: Some(index),
        blobs,
        available_bytes: 1 << 30,
    }
}

fn paths(index: &[u8]) -> Vec<String> {
    let r = reader(index);
    let idx = r.get_root::<store_index::Reader>().unwrap();
    idx.get_entries()
        .unwrap()
        .iter()
        .map(|e| e.get_path().unwrap().to_string().unwrap())
        .collect()
}

#[test]
fn a_new_store_commits_its_seed_and_writes_follow_after_a_delay() {
    let (mut k, mut p) = boot(new_store(), 0);
    assert!(commits(&k).is_empty(), "nothing is sent before the delay");
    later(&mut k);
    let first = commits(&k);
    assert_eq!(first.len(), 1);
    assert_eq!(paths(&first[0].index), ["", "seed.txt"]);
    assert_eq!(first[0].blobs.values().next().unwrap(), b"seeded");
    k.host_reply(first[0].id, HostReply::Done);

    let f = open(&mut k, &mut p, "notes.txt");
    for piece in [&b"one "[..], b"two ", b"three"] {
        assert_eq!(write(&mut k, &mut p, f, piece), 0);
    }
    later(&mut k);
    // The directory changed (its new entry's time), the file open for
    // writing is not stored yet: a new one is left out.
    let all = commits(&k);
    assert_eq!(all.len(), 2);
    assert_eq!(paths(&all[1].index), ["", "seed.txt"]);
    assert!(all[1].blobs.is_empty());
    k.host_reply(all[1].id, HostReply::Done);
    release(&mut k, &mut p, f);
    later(&mut k);
    let all = commits(&k);
    assert_eq!(all.len(), 3, "three writes, one commit once it is closed");
    assert_eq!(paths(&all[2].index), ["", "notes.txt", "seed.txt"]);
    assert_eq!(all[2].blobs.len(), 1, "only the changed file is sent");
    assert_eq!(all[2].blobs.values().next().unwrap(), b"one two three");
    assert!(
        all[2].text.contains("obsolete: []"),
        "the seed's blob is kept: {}",
        all[2].text
    );
}

#[test]
fn sync_waits_for_the_commit_and_reports_its_failure() {
    let (mut k, mut p) = boot(new_store(), 0);
    let f = open(&mut k, &mut p, "a.txt");
    write(&mut k, &mut p, f, b"data");
    let token = sync(&mut p, f);
    assert!(done(&mut k, &mut p).is_empty(), "sync waits for storage");
    let c = commits(&k);
    assert_eq!(c.len(), 1, "sync starts the commit without the delay");
    k.host_reply(
        c[0].id,
        HostReply::Failed {
            kind: HostFailure::Quota,
            message: "QuotaExceededError".into(),
        },
    );
    let got = done(&mut k, &mut p);
    assert_eq!(got[0].0.user_data, token);
    assert_eq!(sync_errno(&got[0]), ENOSPC);
    assert!(k.host().events.iter().any(
        |e| matches!(e, UiEvent::StoreFailed { store, message } if store == "home" && message.contains("Quota"))
    ));

    // The changes are still owed: the next sync sends them again.
    sync(&mut p, f);
    done(&mut k, &mut p);
    let c = commits(&k);
    assert_eq!(c.len(), 2);
    assert!(c[1].blobs.values().any(|b| b == b"data"), "{}", c[1].text);
    k.host_reply(
        c[1].id,
        HostReply::Failed {
            kind: HostFailure::Other,
            message: "disk gone".into(),
        },
    );
    assert_eq!(sync_errno(&done(&mut k, &mut p)[0]), EIO);
    sync(&mut p, f);
    done(&mut k, &mut p);
    let c = commits(&k);
    k.host_reply(c[2].id, HostReply::Done);
    assert_eq!(sync_errno(&done(&mut k, &mut p)[0]), 0);
    // Nothing changed since: sync answers at once.
    sync(&mut p, f);
    assert_eq!(sync_errno(&done(&mut k, &mut p)[0]), 0);
    assert_eq!(commits(&k).len(), 3);
}

#[test]
fn a_write_past_the_quota_is_enospc_and_writes_nothing() {
    let (mut k, mut p) = boot(new_store(), 16);
    // The seed holds 6 of the 16 bytes.
    let f = open(&mut k, &mut p, "big");
    assert_eq!(write(&mut k, &mut p, f, &[7; 11]), ENOSPC);
    assert_eq!(read_file(&mut k, &mut p, f), b"");
    assert_eq!(write(&mut k, &mut p, f, &[7; 10]), 0);
    assert_eq!(read_file(&mut k, &mut p, f), [7; 10]);
}

#[test]
fn a_committed_tree_boots_again_as_it_was() {
    let (mut k, mut p) = boot(new_store(), 0);
    let f = open(&mut k, &mut p, "kept.bin");
    let bytes: Vec<u8> = (0..=255).collect();
    write(&mut k, &mut p, f, &bytes);
    sync(&mut p, f);
    done(&mut k, &mut p);
    let c = commits(&k);
    k.host_reply(c[0].id, HostReply::Done);
    // Change it: its old blob becomes obsolete.
    write(&mut k, &mut p, f, b"XY");
    sync(&mut p, f);
    done(&mut k, &mut p);
    let c = commits(&k);
    assert_eq!(c.len(), 2);
    let old_blob = *c[0].blobs.iter().find(|(_, b)| b.len() == 256).unwrap().0;
    assert!(
        c[1].text.contains(&format!("obsolete: [{old_blob}]")),
        "{}",
        c[1].text
    );
    k.host_reply(c[1].id, HostReply::Done);

    let (mut k2, mut p2) = boot(stored(&c), 0);
    assert!(
        commits(&k2).is_empty() && {
            later(&mut k2);
            commits(&k2).is_empty()
        }
    );
    let f2 = open(&mut k2, &mut p2, "kept.bin");
    let mut expected = bytes;
    expected.extend_from_slice(b"XY");
    assert_eq!(read_file(&mut k2, &mut p2, f2), expected);
    let seed = open(&mut k2, &mut p2, "seed.txt");
    assert_eq!(read_file(&mut k2, &mut p2, seed), b"seeded");
}

#[test]
fn a_damaged_index_fails_the_boot_with_a_reason() {
    let mut k = Kernel::new(TestHost::default(), crate::caps::init_grants);
    k.add_store_image(StoreImage {
        name: "home".into(),
        index: Some(vec![1, 2, 3]),
        ..StoreImage::default()
    });
    let err = k.boot(&manifest(0)).unwrap_err();
    assert!(err.contains("store \"home\""), "{err}");
    let mut k = Kernel::new(TestHost::default(), crate::caps::init_grants);
    let err = k.boot(&manifest(0)).unwrap_err();
    assert!(err.contains("did not load store \"home\""), "{err}");
}

#[test]
fn setting_times_on_a_persistent_directory_schedules_a_commit() {
    // Once a kernel panic: the tree was still borrowed when the commit was scheduled.
    let (mut k, mut p) = seeded();
    let (home, iface) = p.cap("home");
    let mut m = Message::new_default();
    let mut params = m.init_root::<directory::set_times_params::Builder>();
    params.set_path("seed.txt");
    let mut times = params.init_times();
    times.set_set_mtime(true);
    times.set_mtime_ns(42_000_000_000);
    p.call(
        home,
        iface,
        interfaces::directory::method::SET_TIMES,
        &words(&m),
    );
    let c = done(&mut k, &mut p).remove(0);
    let errno = reader(&c.1)
        .get_root::<directory::set_times_results::Reader>()
        .unwrap()
        .get_errno();
    assert_eq!(errno, 0);
    later(&mut k);
    let all = commits(&k);
    assert_eq!(all.len(), 2, "the new time is committed");
    let r = reader(&all[1].index);
    let index = r.get_root::<store_index::Reader>().unwrap();
    let seed = index.get_entries().unwrap().get(1);
    assert_eq!(seed.get_mtime_ns(), 42_000_000_000);
    assert!(all[1].blobs.is_empty(), "no file's bytes changed");
}

#[test]
fn what_is_written_back_is_what_storage_holds() {
    let (mut k, mut p) = boot(new_store(), 0);
    let f = open(&mut k, &mut p, "out.txt");
    write(&mut k, &mut p, f, b"written");
    sync(&mut p, f);
    done(&mut k, &mut p);
    let c = commits(&k);
    k.host_reply(c[0].id, HostReply::Done);
    let snapshot =
        crate::caps::volume::stored_snapshot(stored(&c), "/sandbox", "").expect("a snapshot");
    assert_eq!(
        (snapshot.guest.as_str(), snapshot.store.as_str()),
        ("/sandbox", "home")
    );
    let paths: Vec<_> = snapshot
        .entries
        .iter()
        .map(|e| (e.path.as_str(), e.kind, e.data.as_str()))
        .collect();
    // Files travel base64 in a snapshot.
    assert_eq!(
        paths,
        [
            ("out.txt", "file", "d3JpdHRlbg=="),
            ("seed.txt", "file", "c2VlZGVk")
        ]
    );
}

#[test]
fn a_file_open_for_writing_is_stored_as_it_was_until_it_is_closed() {
    let (mut k, mut p) = seeded();
    // Opened without create or truncate: a writer from its first write.
    let f = open_with(&mut k, &mut p, "seed.txt", false);
    write(&mut k, &mut p, f, b"+more");
    // Something else changes meanwhile: that is committed, the open file is not.
    let other = open(&mut k, &mut p, "other.txt");
    release(&mut k, &mut p, other);
    later(&mut k);
    let all = commits(&k);
    assert_eq!(all.len(), 2);
    assert_eq!(paths(&all[1].index), ["", "other.txt", "seed.txt"]);
    assert_eq!(all[1].blobs.values().collect::<Vec<_>>(), [&b""[..]]);
    k.host_reply(all[1].id, HostReply::Done);
    // A new file still open is left out altogether.
    let fresh = open(&mut k, &mut p, "fresh.txt");
    write(&mut k, &mut p, fresh, b"not yet");
    later(&mut k);
    let all = commits(&k);
    assert_eq!(
        paths(&all.last().unwrap().index),
        ["", "other.txt", "seed.txt"]
    );
    assert!(
        all.last().unwrap().blobs.is_empty(),
        "nothing closed, no bytes to store"
    );
    k.host_reply(all.last().unwrap().id, HostReply::Done);
    release(&mut k, &mut p, f);
    later(&mut k);
    let all = commits(&k);
    let last = all.last().unwrap();
    assert_eq!(paths(&last.index), ["", "other.txt", "seed.txt"]);
    assert_eq!(
        last.blobs.values().collect::<Vec<_>>(),
        [&b"seeded+more"[..]]
    );
    k.host_reply(last.id, HostReply::Done);
    // Syncing a file stores it though it stays open.
    sync(&mut p, fresh);
    done(&mut k, &mut p);
    let all = commits(&k);
    let last = all.last().unwrap();
    assert_eq!(
        paths(&last.index),
        ["", "fresh.txt", "other.txt", "seed.txt"]
    );
    assert_eq!(last.blobs.values().collect::<Vec<_>>(), [&b"not yet"[..]]);
}

#[test]
fn writing_a_file_that_stays_open_asks_the_host_for_nothing() {
    let (mut k, mut p) = seeded();
    let f = open_with(&mut k, &mut p, "seed.txt", false);
    for _ in 0..3 {
        write(&mut k, &mut p, f, b"!");
        later(&mut k);
    }
    assert_eq!(commits(&k).len(), 1, "only the seed's commit");
    release(&mut k, &mut p, f);
    later(&mut k);
    let all = commits(&k);
    assert_eq!(all.len(), 2);
    assert_eq!(
        all[1].blobs.values().collect::<Vec<_>>(),
        [&b"seeded!!!"[..]]
    );
}

#[test]
fn a_halt_during_a_commit_still_stores_what_came_after_it() {
    // Once lost: the follow-up commit waited for a timer, and none fires after a halt.
    let (mut k, mut p) = seeded();
    let a = open(&mut k, &mut p, "a.txt");
    write(&mut k, &mut p, a, b"first");
    release(&mut k, &mut p, a);
    later(&mut k);
    let in_flight = commits(&k).last().unwrap().id;
    let b = open(&mut k, &mut p, "b.txt");
    write(&mut k, &mut p, b, b"second");
    k.process_exited(1, 0);
    assert!(k.is_halted());
    k.host_reply(in_flight, HostReply::Done);
    let last = commits(&k).pop().unwrap();
    assert_eq!(paths(&last.index), ["", "a.txt", "b.txt", "seed.txt"]);
    assert_eq!(last.blobs.values().collect::<Vec<_>>(), [&b"second"[..]]);
}
