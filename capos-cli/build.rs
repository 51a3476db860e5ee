//! Packs the built site into the binary (`src/embedded.rs` unpacks it), so
//! that an installed `capos` needs no checkout: the page, the kernel, the
//! shim, the runtimes, the demo manifests, the browser driver and the
//! playwright-core it runs on, and the schema for `.capnp` manifests.
//! Without a built site (`make build` assembles it before building this
//! crate) the pack is empty and `capos` serves its checkout.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// What is packed, relative to the checkout: a directory whole, or only the
/// files of it with the given extension.
const PARTS: &[(&str, Option<&str>)] = &[
    ("web", None),
    ("build/site", None),
    ("node_modules/@xterm/xterm", None),
    ("node_modules/@xterm/addon-fit", None),
    ("node_modules/@bjorn3/browser_wasi_shim/dist", None),
    ("node_modules/playwright-core", None),
    ("capos-cli/driver", Some("mjs")),
    ("schema", Some("capnp")),
];

/// The file whose presence says the site was built.
const BUILT: &str = "build/site/pkg/capos_kernel_wasm.js";

fn main() {
    let manifest_dir =
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest_dir).join("..");
    let out =
        Path::new(&std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("site.pack");
    let mut files = Vec::new();
    if root.join(BUILT).is_file() {
        for (part, extension) in PARTS {
            let dir = root.join(part);
            println!("cargo:rerun-if-changed={}", dir.display());
            collect(&dir, *extension, &mut files);
        }
    } else {
        println!("cargo:rerun-if-changed={}", root.join(BUILT).display());
    }
    files.sort();
    // Each file: path length (u32 LE), path, size (u64 LE), bytes.
    let mut pack = std::io::BufWriter::new(std::fs::File::create(&out).expect("create site.pack"));
    let mut fingerprint = Fnv::default();
    for path in &files {
        let rel = path
            .strip_prefix(&root)
            .expect("collected under the root")
            .to_str()
            .expect("the site's paths are UTF-8");
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        fingerprint.add(rel.as_bytes());
        fingerprint.add(&bytes);
        pack.write_all(&(rel.len() as u32).to_le_bytes())
            .expect("write site.pack");
        pack.write_all(rel.as_bytes()).expect("write site.pack");
        pack.write_all(&(bytes.len() as u64).to_le_bytes())
            .expect("write site.pack");
        pack.write_all(&bytes).expect("write site.pack");
    }
    pack.flush().expect("write site.pack");
    // Names where the pack is unpacked: a new site, a new directory.
    println!("cargo:rustc-env=CAPOS_SITE_ID={:016x}", fingerprint.0);
}

fn collect(dir: &Path, extension: Option<&str>, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            collect(&path, extension, files);
        } else if kind.is_file()
            && extension.is_none_or(|e| path.extension().is_some_and(|x| x == e))
        {
            files.push(path);
        }
    }
}

/// FNV-1a, 64 bits: a fingerprint of the pack, not a security measure.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn add(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}
