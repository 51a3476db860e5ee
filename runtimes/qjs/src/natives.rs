//! The few things JavaScript cannot do by itself: write bytes to a stream, touch files, read
//! the environment, sleep, exit. Each is a WASI call through Rust's std; the prelude
//! (`prelude.js`) builds `console`, `process`, `fs` and the timers on top of them.
//!
//! A failed file operation throws an Error whose message starts with the errno name
//! ("ENOENT: no such file or directory, open 'a.txt'"); the prelude copies that name into
//! `error.code`, as Node does.

use rquickjs::{ArrayBuffer, Ctx, Exception, Object, Result, TypedArray, Value};
use std::io::{ErrorKind, Read, Write};

/// WASI's ENOTCAPABLE: the path is outside every directory this process was granted.
const WASI_ENOTCAPABLE: i32 = 76;

/// Installs the natives as properties of `target`.
pub fn install<'js>(ctx: &Ctx<'js>, target: &Object<'js>) -> Result<()> {
    use rquickjs::Function;
    let f = |name: &str, func: Function<'js>| target.set(name, func.with_name(name)?);
    f("write", Function::new(ctx.clone(), write)?)?;
    f("readFile", Function::new(ctx.clone(), read_file)?)?;
    f("readStdin", Function::new(ctx.clone(), read_stdin)?)?;
    f("writeFile", Function::new(ctx.clone(), write_file)?)?;
    f("readdir", Function::new(ctx.clone(), readdir)?)?;
    f("stat", Function::new(ctx.clone(), stat)?)?;
    f("mkdir", Function::new(ctx.clone(), mkdir)?)?;
    f("unlink", Function::new(ctx.clone(), unlink)?)?;
    f("rmdir", Function::new(ctx.clone(), rmdir)?)?;
    f("rename", Function::new(ctx.clone(), rename)?)?;
    f("utf8Encode", Function::new(ctx.clone(), utf8_encode)?)?;
    f("utf8Decode", Function::new(ctx.clone(), utf8_decode)?)?;
    f("sleepMs", Function::new(ctx.clone(), sleep_ms)?)?;
    f("nowMs", Function::new(ctx.clone(), now_ms)?)?;
    f("exit", Function::new(ctx.clone(), exit)?)?;
    crate::http::install(ctx, target)?;
    let env = Object::new(ctx.clone())?;
    for (key, value) in std::env::vars_os() {
        // Environment entries that are not UTF-8 cannot be JavaScript property names faithfully.
        if let (Some(k), Some(v)) = (key.to_str(), value.to_str()) {
            env.set(k, v)?;
        }
    }
    target.set("env", env)?;
    Ok(())
}

/// The bytes of a string (as UTF-8), a Uint8Array/typed array or an ArrayBuffer.
pub(crate) fn bytes_of<'js>(ctx: &Ctx<'js>, data: &Value<'js>) -> Result<Vec<u8>> {
    if let Some(s) = data.as_string() {
        return Ok(s.to_string()?.into_bytes());
    }
    if let Ok(array) = TypedArray::<u8>::from_value(data.clone()) {
        // SAFETY: the slice is copied at once, before any JavaScript can run and detach or
        // resize the buffer behind it.
        return Ok(unsafe { array.as_bytes() }.unwrap_or_default().to_vec());
    }
    if let Some(buffer) = ArrayBuffer::from_value(data.clone()) {
        // SAFETY: as above, copied before any JavaScript runs.
        return Ok(unsafe { buffer.as_bytes() }.unwrap_or_default().to_vec());
    }
    Err(Exception::throw_type(
        ctx,
        "expected a string, a Uint8Array or an ArrayBuffer",
    ))
}

/// Writes `data` to fd 1 or 2, all of it, and flushes.
fn write<'js>(ctx: Ctx<'js>, fd: i32, data: Value<'js>) -> Result<()> {
    let bytes = bytes_of(&ctx, &data)?;
    let result = match fd {
        1 => {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes).and_then(|()| out.flush())
        }
        2 => {
            let mut err = std::io::stderr().lock();
            err.write_all(&bytes).and_then(|()| err.flush())
        }
        _ => {
            return Err(Exception::throw_range(
                &ctx,
                "only fds 1 and 2 can be written",
            ));
        }
    };
    result.map_err(|e| fail(&ctx, e, "write", &fd.to_string()))
}

fn read_file<'js>(ctx: Ctx<'js>, path: String) -> Result<TypedArray<'js, u8>> {
    let bytes = std::fs::read(&path).map_err(|e| fail(&ctx, e, "open", &path))?;
    TypedArray::new(ctx, bytes)
}

/// Everything left on stdin (what `fs.readFileSync(0)` returns).
fn read_stdin<'js>(ctx: Ctx<'js>) -> Result<TypedArray<'js, u8>> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut bytes)
        .map_err(|e| fail(&ctx, e, "read", "0"))?;
    TypedArray::new(ctx, bytes)
}

fn write_file<'js>(ctx: Ctx<'js>, path: String, data: Value<'js>, append: bool) -> Result<()> {
    let bytes = bytes_of(&ctx, &data)?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(&path)
        .map_err(|e| fail(&ctx, e, "open", &path))?;
    file.write_all(&bytes)
        .map_err(|e| fail(&ctx, e, "write", &path))
}

fn readdir(ctx: Ctx<'_>, path: String) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&path).map_err(|e| fail(&ctx, e, "scandir", &path))? {
        let entry = entry.map_err(|e| fail(&ctx, e, "scandir", &path))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// `{ size, isFile, isDirectory, isSymbolicLink, mtimeMs }`, without following a final symlink
/// when `lstat` is true.
fn stat<'js>(ctx: Ctx<'js>, path: String, lstat: bool) -> Result<Object<'js>> {
    let meta = if lstat {
        std::fs::symlink_metadata(&path)
    } else {
        std::fs::metadata(&path)
    }
    .map_err(|e| fail(&ctx, e, if lstat { "lstat" } else { "stat" }, &path))?;
    let info = Object::new(ctx)?;
    info.set("size", meta.len() as f64)?;
    info.set("isFile", meta.is_file())?;
    info.set("isDirectory", meta.is_dir())?;
    info.set("isSymbolicLink", meta.file_type().is_symlink())?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    info.set("mtimeMs", mtime)?;
    Ok(info)
}

fn mkdir(ctx: Ctx<'_>, path: String, recursive: bool) -> Result<()> {
    if recursive {
        std::fs::create_dir_all(&path)
    } else {
        std::fs::create_dir(&path)
    }
    .map_err(|e| fail(&ctx, e, "mkdir", &path))
}

fn unlink(ctx: Ctx<'_>, path: String) -> Result<()> {
    std::fs::remove_file(&path).map_err(|e| fail(&ctx, e, "unlink", &path))
}

fn rmdir(ctx: Ctx<'_>, path: String, recursive: bool) -> Result<()> {
    if recursive {
        std::fs::remove_dir_all(&path)
    } else {
        std::fs::remove_dir(&path)
    }
    .map_err(|e| fail(&ctx, e, "rmdir", &path))
}

fn rename(ctx: Ctx<'_>, from: String, to: String) -> Result<()> {
    std::fs::rename(&from, &to).map_err(|e| fail(&ctx, e, "rename", &format!("{from}' -> '{to}")))
}

fn utf8_encode(ctx: Ctx<'_>, text: String) -> Result<TypedArray<'_, u8>> {
    TypedArray::new(ctx, text.into_bytes())
}

/// Decodes UTF-8, replacing each invalid sequence with U+FFFD (what `TextDecoder` does).
fn utf8_decode<'js>(ctx: Ctx<'js>, data: Value<'js>) -> Result<String> {
    let bytes = bytes_of(&ctx, &data)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

pub(crate) fn sleep_ms(ms: f64) {
    if ms > 0.0 && ms.is_finite() {
        std::thread::sleep(std::time::Duration::from_secs_f64(ms / 1000.0));
    }
}

/// Milliseconds on the monotonic clock since the program started.
fn now_ms() -> f64 {
    use std::sync::OnceLock;
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_secs_f64()
        * 1000.0
}

fn exit(code: i32) {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    std::process::exit(code);
}

/// Throws `CODE: description, SYSCALL 'PATH'`, as Node words file errors.
fn fail(ctx: &Ctx<'_>, error: std::io::Error, syscall: &str, path: &str) -> rquickjs::Error {
    let (code, description) = errno(&error);
    Exception::throw_message(ctx, &format!("{code}: {description}, {syscall} '{path}'"))
}

fn errno(error: &std::io::Error) -> (&'static str, String) {
    if error.raw_os_error() == Some(WASI_ENOTCAPABLE) {
        return (
            "ENOTCAPABLE",
            "outside every directory this process was granted".into(),
        );
    }
    let code = match error.kind() {
        ErrorKind::NotFound => "ENOENT",
        ErrorKind::PermissionDenied => "EACCES",
        ErrorKind::AlreadyExists => "EEXIST",
        ErrorKind::NotADirectory => "ENOTDIR",
        ErrorKind::IsADirectory => "EISDIR",
        ErrorKind::DirectoryNotEmpty => "ENOTEMPTY",
        ErrorKind::InvalidInput => "EINVAL",
        ErrorKind::StorageFull => "ENOSPC",
        ErrorKind::ReadOnlyFilesystem => "EROFS",
        ErrorKind::Unsupported => "ENOTSUP",
        ErrorKind::BrokenPipe => "EPIPE",
        _ => "EIO",
    };
    // std's text without its "(os error N)" tail, lower-cased as Node's is.
    let text = error.to_string();
    let text = text
        .split(" (os error")
        .next()
        .unwrap_or_default()
        .to_lowercase();
    (code, text)
}
