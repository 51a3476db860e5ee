//! `capos build-site OUT`: the whole site as static files, for any static
//! host. A host that cannot send COOP/COEP gets them from the site's own
//! service worker (web/service-worker.js), which the page registers
//! and reloads for once. What only the server can do is left out and says
//! so where it is used: the fetch demo's loopback origins, the precompressed
//! runtime variants (a static host serves the plain module).

use crate::exit::{self, Failure};
use crate::site::Site;
use std::fs;
use std::path::Path;

/// Test-only parts of the site, not worth publishing.
const LEFT_OUT: &[&str] = &["/bench-data/", "/ring-tests/"];

pub fn build_site(out: &str) -> Result<u8, Failure> {
    let site = Site::discover()?;
    let out = Path::new(out);
    if out.exists() && fs::read_dir(out).map_or(true, |mut d| d.next().is_some()) {
        return Err(Failure::new(
            exit::USAGE,
            format!("{} exists and is not an empty directory", out.display()),
        ));
    }
    let mut files = 0u64;
    let mut bytes = 0u64;
    // The shortest prefix ("/": web/) first, so longer ones land inside it.
    let mut mounts = site.mounts().to_vec();
    mounts.sort_by_key(|(prefix, _)| prefix.len());
    for (prefix, dir) in mounts {
        if LEFT_OUT.contains(&prefix) {
            continue;
        }
        let target = out.join(prefix.trim_start_matches('/'));
        copy_tree(&dir, &target, &mut files, &mut bytes)?;
    }
    // The one listing the server makes up.
    let names = serde_json::to_vec(&site.demo_names())
        .map_err(|e| Failure::new(exit::CANT_CREATE, format!("demo list: {e}")))?;
    write(&out.join("manifests/index.json"), &names)?;
    files += 1;
    println!(
        "capOS site: {files} files, {:.1} MiB, in {}",
        bytes as f64 / (1024.0 * 1024.0),
        out.display()
    );
    println!(
        "serve it from any static host; its service worker makes the page cross-origin isolated"
    );
    Ok(exit::OK)
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| io_failure(parent, e))?;
    }
    fs::write(path, bytes).map_err(|e| io_failure(path, e))
}

fn io_failure(path: &Path, e: std::io::Error) -> Failure {
    Failure::new(exit::CANT_CREATE, format!("{}: {e}", path.display()))
}

/// Copies `from` into `to`, following links (node_modules may hold some),
/// skipping precompressed runtime variants and anything that is neither a
/// file nor a directory.
fn copy_tree(from: &Path, to: &Path, files: &mut u64, bytes: &mut u64) -> Result<(), Failure> {
    let entries = fs::read_dir(from).map_err(|e| io_failure(from, e))?;
    fs::create_dir_all(to).map_err(|e| io_failure(to, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_failure(from, e))?;
        let path = entry.path();
        let meta = fs::metadata(&path).map_err(|e| io_failure(&path, e))?;
        let name = entry.file_name();
        let dest = to.join(&name);
        if meta.is_dir() {
            copy_tree(&path, &dest, files, bytes)?;
        } else if meta.is_file() {
            let name = name.to_string_lossy();
            if name.ends_with(".wasm.br") || name.ends_with(".wasm.gz") {
                continue;
            }
            fs::copy(&path, &dest).map_err(|e| io_failure(&dest, e))?;
            *files += 1;
            *bytes += meta.len();
        }
    }
    Ok(())
}
