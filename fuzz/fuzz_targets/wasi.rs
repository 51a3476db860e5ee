//! The WASI shim's decoding of a program's arguments: every preview1 function but proc_exit,
//! called with arbitrary integers against an arbitrary program memory, on the host
//! (`capos-wasi` feature `harness`: the program's memory is a buffer, bounds-checked as the glue
//! checks it, and every capability call fails, as there is no kernel). Each call must return an
//! errno; a panic is a crash. The fd table persists across an input's calls, so renumbering,
//! closing and reopening interleave.
#![no_main]

use capos_config::capset::{CapSet, CapSetEntry};
use capos_rt::Env;
use capos_schema::interfaces::{console, directory, random_source, timer};
use capos_wasi::{app, exports};
use libfuzzer_sys::fuzz_target;

/// The process: stdio Consoles, a Timer, randomness, one directory, arguments and environment.
fn env() -> &'static Env {
    let entry = |name: &str, cap_id, interface_id| CapSetEntry {
        name: name.into(),
        cap_id,
        interface_id,
    };
    let capset = CapSet::new(vec![
        entry("stdin", 1, console::INTERFACE_ID),
        entry("stdout", 2, console::INTERFACE_ID),
        entry("stderr", 3, console::INTERFACE_ID),
        entry("timer", 4, timer::INTERFACE_ID),
        entry("random", 5, random_source::INTERFACE_ID),
        entry("dir.0", 6, directory::INTERFACE_ID),
    ])
    .expect("a valid CapSet");
    Box::leak(Box::new(Env {
        pid: 1,
        argv: vec!["program".into(), "an argument".into()],
        env: vec!["KEY=value".into()],
        capset,
    }))
}

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let n = N.min(self.0.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        out
    }
    /// Small values most of the time (fds, offsets into the memory), any value sometimes.
    fn arg(&mut self) -> u64 {
        match self.bytes::<1>()[0] % 5 {
            0 | 1 => u64::from(self.bytes::<1>()[0]),
            2 => u64::from(u16::from_le_bytes(self.bytes())),
            3 => u64::from(u32::from_le_bytes(self.bytes())),
            _ => u64::from_le_bytes(self.bytes()),
        }
    }
}

/// Calls function `index` (of the 45) with `a`.
fn call(index: u8, a: [u64; 9]) -> i32 {
    match index % 45 {
        0 => exports::wasi_args_get(a[0] as u32, a[1] as u32),
        1 => exports::wasi_args_sizes_get(a[0] as u32, a[1] as u32),
        2 => exports::wasi_environ_get(a[0] as u32, a[1] as u32),
        3 => exports::wasi_environ_sizes_get(a[0] as u32, a[1] as u32),
        4 => exports::wasi_clock_res_get(a[0] as u32, a[1] as u32),
        5 => exports::wasi_clock_time_get(a[0] as u32, a[1], a[2] as u32),
        6 => exports::wasi_fd_advise(a[0] as u32, a[1], a[2], a[3] as u32),
        7 => exports::wasi_fd_allocate(a[0] as u32, a[1], a[2]),
        8 => exports::wasi_fd_close(a[0] as u32),
        9 => exports::wasi_fd_datasync(a[0] as u32),
        10 => exports::wasi_fd_fdstat_get(a[0] as u32, a[1] as u32),
        11 => exports::wasi_fd_fdstat_set_flags(a[0] as u32, a[1] as u32),
        12 => exports::wasi_fd_fdstat_set_rights(a[0] as u32, a[1], a[2]),
        13 => exports::wasi_fd_filestat_get(a[0] as u32, a[1] as u32),
        14 => exports::wasi_fd_filestat_set_size(a[0] as u32, a[1]),
        15 => exports::wasi_fd_filestat_set_times(a[0] as u32, a[1], a[2], a[3] as u32),
        16 => exports::wasi_fd_pread(a[0] as u32, a[1] as u32, a[2] as u32, a[3], a[4] as u32),
        17 => exports::wasi_fd_prestat_get(a[0] as u32, a[1] as u32),
        18 => exports::wasi_fd_prestat_dir_name(a[0] as u32, a[1] as u32, a[2] as u32),
        19 => exports::wasi_fd_pwrite(a[0] as u32, a[1] as u32, a[2] as u32, a[3], a[4] as u32),
        20 => exports::wasi_fd_read(a[0] as u32, a[1] as u32, a[2] as u32, a[3] as u32),
        21 => exports::wasi_fd_readdir(a[0] as u32, a[1] as u32, a[2] as u32, a[3], a[4] as u32),
        22 => exports::wasi_fd_renumber(a[0] as u32, a[1] as u32),
        23 => exports::wasi_fd_seek(a[0] as u32, a[1], a[2] as u32, a[3] as u32),
        24 => exports::wasi_fd_sync(a[0] as u32),
        25 => exports::wasi_fd_tell(a[0] as u32, a[1] as u32),
        26 => exports::wasi_fd_write(a[0] as u32, a[1] as u32, a[2] as u32, a[3] as u32),
        27 => exports::wasi_path_create_directory(a[0] as u32, a[1] as u32, a[2] as u32),
        28 => exports::wasi_path_filestat_get(
            a[0] as u32,
            a[1] as u32,
            a[2] as u32,
            a[3] as u32,
            a[4] as u32,
        ),
        29 => exports::wasi_path_filestat_set_times(
            a[0] as u32,
            a[1] as u32,
            a[2] as u32,
            a[3] as u32,
            a[4],
            a[5],
            a[6] as u32,
        ),
        30 => exports::wasi_path_link(
            a[0] as u32,
            a[1] as u32,
            a[2] as u32,
            a[3] as u32,
            a[4] as u32,
            a[5] as u32,
            a[6] as u32,
        ),
        31 => exports::wasi_path_open(
            a[0] as u32,
            a[1] as u32,
            a[2] as u32,
            a[3] as u32,
            a[4] as u32,
            a[5],
            a[6],
            a[7] as u32,
            a[8] as u32,
        ),
        32 => exports::wasi_path_readlink(
            a[0] as u32,
            a[1] as u32,
            a[2] as u32,
            a[3] as u32,
            a[4] as u32,
            a[5] as u32,
        ),
        33 => exports::wasi_path_remove_directory(a[0] as u32, a[1] as u32, a[2] as u32),
        34 => exports::wasi_path_rename(
            a[0] as u32,
            a[1] as u32,
            a[2] as u32,
            a[3] as u32,
            a[4] as u32,
            a[5] as u32,
        ),
        35 => exports::wasi_path_symlink(
            a[0] as u32,
            a[1] as u32,
            a[2] as u32,
            a[3] as u32,
            a[4] as u32,
        ),
        36 => exports::wasi_path_unlink_file(a[0] as u32, a[1] as u32, a[2] as u32),
        37 => exports::wasi_poll_oneoff(a[0] as u32, a[1] as u32, a[2] as u32, a[3] as u32),
        38 => exports::wasi_proc_raise(a[0] as u32),
        39 => exports::wasi_sched_yield(),
        40 => exports::wasi_random_get(a[0] as u32, a[1] as u32),
        41 => exports::wasi_sock_accept(a[0] as u32, a[1] as u32, a[2] as u32),
        42 => exports::wasi_sock_recv(
            a[0] as u32,
            a[1] as u32,
            a[2] as u32,
            a[3] as u32,
            a[4] as u32,
            a[5] as u32,
        ),
        43 => exports::wasi_sock_send(
            a[0] as u32,
            a[1] as u32,
            a[2] as u32,
            a[3] as u32,
            a[4] as u32,
        ),
        44 => exports::wasi_sock_shutdown(a[0] as u32, a[1] as u32),
        _ => unreachable!("index is taken modulo 45"),
    }
}

fuzz_target!(|data: &[u8]| {
    thread_local! {
        static ENV: &'static Env = env();
    }
    let mut input = Input(data);
    let size = usize::from(u16::from_le_bytes(input.bytes())) % 4096 + 64;
    let mut memory = vec![0u8; size];
    let fill = input.0.len().min(size);
    memory[..fill].copy_from_slice(&input.0[..fill]);
    input.0 = &input.0[fill.min(input.0.len() / 2)..];
    app::set_memory(memory);
    ENV.with(|env| exports::init_on_host(env));
    for _ in 0..32 {
        if input.0.is_empty() {
            break;
        }
        let index = input.bytes::<1>()[0];
        let a: [u64; 9] = std::array::from_fn(|_| input.arg());
        let errno = call(index, a);
        assert!(
            (0..=76).contains(&errno),
            "function {index} returned {errno}, not an errno"
        );
    }
});
