//! A tour of WASI preview1 through Rust's std, as an ordinary program would use it.
//!
//! Usage: rust-tour [DIR [ARGS...]] with DIR a preopened directory (default /data), e.g.
//!   capos run --dir ./scratch::/data --env TOUR_GREETING=hi rust-tour.wasm /data one two
//! It reads stdin to the end, works in DIR/rust-tour (leaving summary.txt there), and prints a
//! report whose lines are the same on every run. Exit 0 when every step behaved; otherwise 1,
//! with the step and the error on stderr.

use std::env;
use std::error::Error;
use std::fs::{self, OpenOptions};
use std::io::{self, IsTerminal, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// 2020-01-01T00:00:00Z in seconds: any working realtime clock is past it.
const YEAR_2020: u64 = 1_577_836_800;
const SLEEP: Duration = Duration::from_millis(50);

/// Fails the tour with `what` unless `holds`.
fn ensure(holds: bool, what: &str) -> Result<()> {
    if holds { Ok(()) } else { Err(what.into()) }
}

fn args_and_env() -> Result<PathBuf> {
    let args: Vec<String> = env::args().collect();
    ensure(!args.is_empty(), "argv[0] is missing")?;
    let rest = &args[1..];
    let quoted: Vec<String> = rest.iter().map(|a| format!("{a:?}")).collect();
    println!(
        "args: {} after the program name: {}",
        rest.len(),
        quoted.join(" ")
    );
    let mut vars: Vec<(String, String)> = env::vars().collect();
    vars.sort();
    let plural = if vars.len() == 1 { "" } else { "s" };
    println!("env: {} variable{plural}", vars.len());
    for (key, value) in &vars {
        println!("  {key}={value}");
    }
    Ok(PathBuf::from(rest.first().map_or("/data", String::as_str)))
}

fn stdio() -> Result<()> {
    let mut stdin = io::stdin();
    if stdin.is_terminal() {
        eprintln!("rust-tour: type some lines, then Ctrl-D");
    }
    let mut input = String::new();
    stdin.read_to_string(&mut input)?;
    let last = input.lines().last().unwrap_or("");
    let lines = input.lines().count();
    let plural = if lines == 1 { "" } else { "s" };
    println!(
        "stdin: {lines} line{plural}, {} bytes, last line {last:?}",
        input.len()
    );
    eprintln!("stderr: this line goes to stderr");
    println!("stdout: this line goes to stdout");
    Ok(())
}

fn files(root: &Path) -> Result<()> {
    let dir = root.join("rust-tour");
    println!("files in {}:", dir.display());
    if dir.exists() {
        fs::remove_dir_all(&dir)?;
        println!("  removed what a previous run left");
    }
    fs::create_dir(&dir)?;
    fs::create_dir(dir.join("sub"))?;
    println!("  mkdir rust-tour, rust-tour/sub");

    let notes = dir.join("notes.txt");
    fs::write(&notes, "line 1\n")?;
    OpenOptions::new()
        .append(true)
        .open(&notes)?
        .write_all(b"line 2\n")?;
    let text = fs::read_to_string(&notes)?;
    ensure(
        text == "line 1\nline 2\n",
        "notes.txt does not hold both lines",
    )?;
    println!("  write, append, read back notes.txt: {text:?}");

    let mut file = fs::File::open(&notes)?;
    let at = file.seek(SeekFrom::Start(7))?;
    let mut word = [0u8; 6];
    file.read_exact(&mut word)?;
    let end = file.seek(SeekFrom::End(0))?;
    ensure(
        at == 7 && &word == b"line 2" && end == 14,
        "seek/read gave the wrong bytes",
    )?;
    println!(
        "  seek to 7 and read 6 bytes: {:?}; end of file at {end}",
        String::from_utf8_lossy(&word)
    );

    let meta = fs::metadata(&notes)?;
    let age = SystemTime::now()
        .duration_since(meta.modified()?)
        .unwrap_or_default();
    ensure(
        meta.is_file() && meta.len() == 14,
        "stat of notes.txt is wrong",
    )?;
    println!(
        "  stat notes.txt: a file of {} bytes, modified within the last minute: {}",
        meta.len(),
        age < Duration::from_secs(60)
    );

    fs::rename(&notes, dir.join("renamed.txt"))?;
    ensure(!notes.exists(), "notes.txt still exists after the rename")?;
    println!("  rename notes.txt -> renamed.txt");

    let mut entries: Vec<String> = fs::read_dir(&dir)?
        .map(|e| {
            let e = e?;
            let slash = if e.file_type()?.is_dir() { "/" } else { "" };
            Ok(format!("{}{slash}", e.file_name().to_string_lossy()))
        })
        .collect::<io::Result<_>>()?;
    entries.sort();
    ensure(
        entries == ["renamed.txt", "sub/"],
        "readdir shows the wrong entries",
    )?;
    println!("  readdir rust-tour: {}", entries.join(", "));

    fs::remove_file(dir.join("renamed.txt"))?;
    fs::remove_dir(dir.join("sub"))?;
    let missing = fs::metadata(dir.join("renamed.txt")).map(drop);
    ensure(
        missing.is_err_and(|e| e.kind() == io::ErrorKind::NotFound),
        "renamed.txt survived unlink",
    )?;
    println!("  unlink renamed.txt, rmdir sub; stat renamed.txt now fails: not found");

    fs::write(dir.join("summary.txt"), "rust-tour was here\n")?;
    println!("  left rust-tour/summary.txt");
    Ok(())
}

fn clocks_and_sleep() -> Result<()> {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH)?;
    ensure(
        since_epoch.as_secs() > YEAR_2020,
        "the realtime clock is before 2020",
    )?;
    println!("clocks: realtime is after 2020-01-01: true");
    let start = Instant::now();
    let mut previous = start;
    for _ in 0..1000 {
        let now = Instant::now();
        ensure(now >= previous, "the monotonic clock went backwards")?;
        previous = now;
    }
    println!("clocks: monotonic never went backwards in 1000 reads: true");
    let before = Instant::now();
    thread::sleep(SLEEP);
    let slept = before.elapsed();
    ensure(slept >= SLEEP, "sleep returned early")?;
    println!("sleep: 50 ms, and at least that long passed: true");
    Ok(())
}

#[link(wasm_import_module = "wasi_snapshot_preview1")]
unsafe extern "C" {
    /// std has no stable API for OS randomness, so the tour asks WASI directly.
    #[link_name = "random_get"]
    fn wasi_random_get(buf: *mut u8, len: usize) -> u16;
}

fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut buf = [0u8; N];
    // SAFETY: the pointer and length describe `buf`, which outlives the call.
    match unsafe { wasi_random_get(buf.as_mut_ptr(), N) } {
        0 => Ok(buf),
        errno => Err(format!("random_get failed with errno {errno}").into()),
    }
}

fn random() -> Result<()> {
    let (a, b) = (random_bytes::<16>()?, random_bytes::<16>()?);
    ensure(a.iter().any(|&x| x != 0), "16 random bytes were all zero")?;
    ensure(a != b, "two random draws were equal")?;
    println!("random: 16 bytes twice, not all zero and different: true");
    Ok(())
}

fn tour() -> Result<()> {
    let dir = args_and_env()?;
    stdio()?;
    files(&dir).map_err(|e| format!("files in {}: {e}", dir.display()))?;
    clocks_and_sleep()?;
    random()
}

fn main() {
    println!("rust-tour: WASI preview1 through Rust's std");
    match tour() {
        Ok(()) => println!("rust-tour: all good"),
        Err(e) => {
            eprintln!("rust-tour: FAILED: {e}");
            std::process::exit(1);
        }
    }
}
