//! The site packed into this binary (build.rs), unpacked once into the
//! user's cache, laid out as the checkout is: an installed `capos` needs no
//! checkout, only Chromium, Node and (for `.capnp` manifests) `capnp`.

use crate::exit::{self, Failure};
use std::path::{Path, PathBuf};

static PACK: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/site.pack"));
const SITE_ID: &str = env!("CAPOS_SITE_ID");
/// Written last: a directory without it was not unpacked whole.
const COMPLETE: &str = ".complete";

/// Where this binary's site is, unpacked if need be; `None` if it carries
/// none (built before the site was).
pub fn site_root() -> Result<Option<PathBuf>, Failure> {
    if PACK.is_empty() {
        return Ok(None);
    }
    let cache = cache_dir()?;
    let root = cache.join(format!("site-{SITE_ID}"));
    if root.join(COMPLETE).is_file() {
        return Ok(Some(root));
    }
    let fail =
        |what: String| Failure::new(exit::CANT_CREATE, format!("cannot unpack the site: {what}"));
    let staging = cache.join(format!(".site-{SITE_ID}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    unpack(PACK, &staging).map_err(|e| fail(format!("{}: {e}", staging.display())))?;
    std::fs::write(staging.join(COMPLETE), SITE_ID).map_err(|e| fail(e.to_string()))?;
    // Another `capos` may have unpacked it meanwhile: either copy will do.
    if std::fs::rename(&staging, &root).is_err() {
        let _ = std::fs::remove_dir_all(&staging);
        if !root.join(COMPLETE).is_file() {
            return Err(fail(format!(
                "{} could not be put in place",
                root.display()
            )));
        }
    }
    Ok(Some(root))
}

/// `$XDG_CACHE_HOME/capos`, else `~/.cache/capos`: the user's own, made
/// private (0700) if it is new.
fn cache_dir() -> Result<PathBuf, Failure> {
    use std::os::unix::fs::DirBuilderExt as _;
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|p| Path::new(p).is_absolute())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
        .ok_or_else(|| {
            Failure::new(
                exit::UNAVAILABLE,
                "neither XDG_CACHE_HOME nor HOME is set: nowhere to unpack the site",
            )
        })?;
    let dir = base.join("capos");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|e| Failure::new(exit::CANT_CREATE, format!("{}: {e}", dir.display())))?;
    Ok(dir)
}

/// Writes every file of `pack` under `into`.
fn unpack(mut pack: &[u8], into: &Path) -> std::io::Result<()> {
    let bad = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the packed site is damaged",
        )
    };
    while !pack.is_empty() {
        let (len, rest) = pack.split_first_chunk::<4>().ok_or_else(bad)?;
        let len = u32::from_le_bytes(*len) as usize;
        let (path, rest) = rest.split_at_checked(len).ok_or_else(bad)?;
        let (size, rest) = rest.split_first_chunk::<8>().ok_or_else(bad)?;
        let size = usize::try_from(u64::from_le_bytes(*size)).map_err(|_| bad())?;
        let (bytes, rest) = rest.split_at_checked(size).ok_or_else(bad)?;
        let path = std::str::from_utf8(path).map_err(|_| bad())?;
        // Packed by build.rs from relative paths: refuse anything else.
        let relative = Path::new(path);
        if !relative
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
        {
            return Err(bad());
        }
        let target = into.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, bytes)?;
        pack = rest;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, bytes: &[u8]) -> Vec<u8> {
        let mut out = (path.len() as u32).to_le_bytes().to_vec();
        out.extend_from_slice(path.as_bytes());
        out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        out.extend_from_slice(bytes);
        out
    }

    #[test]
    fn a_pack_unpacks_into_its_tree_and_a_damaged_one_is_refused() {
        let dir = std::env::temp_dir().join(format!("capos-unpack-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut pack = entry("web/index.html", b"<html>");
        pack.extend(entry("build/site/pkg/k.wasm", b"\0asm"));
        unpack(&pack, &dir).unwrap();
        assert_eq!(
            std::fs::read(dir.join("build/site/pkg/k.wasm")).unwrap(),
            b"\0asm"
        );
        assert!(unpack(&pack[..pack.len() - 1], &dir.join("cut")).is_err());
        assert!(unpack(&entry("../escape", b"x"), &dir.join("up")).is_err());
        assert!(!dir.join("escape").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
