//! What the server serves: the repo's `web/`, the build's output under
//! `build/site/`, and the vendored xterm.js from `node_modules/`.

use crate::exit::{self, Failure};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub struct Site {
    pub root: PathBuf,
    /// (URL prefix, directory), longest prefix first.
    mounts: Vec<(&'static str, PathBuf)>,
    /// Bytes served at a fixed path (a manifest given on the command line,
    /// or one a warm run brought to the daemon).
    extra: Mutex<Vec<(String, Arc<Vec<u8>>)>>,
    /// What each `capos run --dir` shares with its page, by the run's secret.
    host_files: Mutex<Vec<(String, Arc<HostFiles>)>>,
    /// The files cannot change while they are served: the site packed into
    /// this binary, unpacked once into a directory named by its fingerprint.
    fixed: bool,
    /// Browsers may keep the files for as long as they live, without asking
    /// again (see `serve_to_own_browser`).
    cache_while_served: bool,
}

/// One run's host files: file `id` is served at `/hostfs/SECRET/ID`, and the
/// bytes of changed file N are taken at `PUT /hostfs/SECRET/out/N` into
/// `uploads/N` (a private directory the run made and removes).
pub struct HostFiles {
    pub files: Vec<PathBuf>,
    pub uploads: PathBuf,
}

/// Where a run's host files are served (`Manifest.hostFiles`).
pub fn host_files_url(secret: &str) -> String {
    format!("{}{secret}/", capos_config::manifest::HOST_FILES_PREFIX)
}

impl Site {
    /// The site is that of the checkout at `$CAPOS_ROOT`, else the one this
    /// binary carries (unpacked into the user's cache), else that of the
    /// checkout it was built from.
    pub fn discover() -> Result<Self, Failure> {
        let (root, fixed) = match std::env::var_os("CAPOS_ROOT") {
            Some(root) => (PathBuf::from(root), false),
            None => match crate::embedded::site_root()? {
                Some(root) => (root, true),
                None => (Path::new(env!("CARGO_MANIFEST_DIR")).join(".."), false),
            },
        };
        let root = root.canonicalize().map_err(|e| {
            Failure::new(
                exit::UNAVAILABLE,
                format!("capOS checkout {} not found: {e}", root.display()),
            )
        })?;
        let built = root.join("build/site/pkg/capos_kernel_wasm.js");
        if !built.is_file() {
            return Err(Failure::new(
                exit::UNAVAILABLE,
                format!("{} is missing: run `make build` first", built.display()),
            ));
        }
        let mounts = vec![
            (
                "/vendor/xterm-fit/",
                root.join("node_modules/@xterm/addon-fit"),
            ),
            ("/vendor/xterm/", root.join("node_modules/@xterm/xterm")),
            (
                "/vendor/browser_wasi_shim/",
                root.join("node_modules/@bjorn3/browser_wasi_shim/dist"),
            ),
            ("/bench-data/", root.join("build/site/bench")),
            ("/manifests/", root.join("build/site/manifests")),
            ("/generated/", root.join("build/site/generated")),
            ("/pkg/", root.join("build/site/pkg")),
            ("/ring-tests/", root.join("build/site/ring-tests")),
            ("/runtimes/", root.join("build/site/runtimes")),
            ("/", root.join("web")),
        ];
        Ok(Self::new(root, mounts, fixed))
    }

    fn new(root: PathBuf, mounts: Vec<(&'static str, PathBuf)>, fixed: bool) -> Self {
        Self {
            root,
            mounts,
            extra: Mutex::default(),
            host_files: Mutex::default(),
            fixed,
            cache_while_served: false,
        }
    }

    /// This site is served to a browser of the server's own, which lives no
    /// longer than the server (the daemon's): if its files cannot change, that
    /// browser may keep them without revalidating (a warm run's page then
    /// loads its modules, its kernel Worker's and its process Workers' with
    /// no request at all: a run after a run took 240 ms instead of 290).
    /// A person's browser outlives any one server (and a new `capos` may serve
    /// other files at the same address), and a checkout's files change, so
    /// every other server revalidates.
    pub fn serve_to_own_browser(&mut self) {
        self.cache_while_served = self.fixed;
    }

    /// Whether browsers may keep this site's files while it is served.
    pub fn cache_while_served(&self) -> bool {
        self.cache_while_served
    }

    /// A site of fixed files only (server tests).
    #[cfg(test)]
    pub(crate) fn with_files(files: Vec<(String, Vec<u8>)>) -> Self {
        let site = Self::new(PathBuf::new(), Vec::new(), false);
        *site.extra() = files.into_iter().map(|(p, b)| (p, Arc::new(b))).collect();
        site
    }

    /// A site serving one directory at `/` (server tests).
    #[cfg(test)]
    pub(crate) fn with_dir(dir: &Path) -> Self {
        Self::new(dir.to_path_buf(), vec![("/", dir.to_path_buf())], true)
    }

    /// (URL prefix, directory) of everything served from files.
    pub fn mounts(&self) -> &[(&'static str, PathBuf)] {
        &self.mounts
    }

    pub fn add_file(&self, url_path: &str, bytes: Vec<u8>) {
        self.extra().push((url_path.to_string(), Arc::new(bytes)));
    }

    pub fn remove_file(&self, url_path: &str) {
        self.extra().retain(|(p, _)| p != url_path);
    }

    /// Shares `files` (absolute paths) and an uploads directory with the
    /// run whose secret this is.
    pub fn add_host_files(&self, secret: &str, files: HostFiles) {
        self.host_file_runs()
            .push((secret.to_string(), Arc::new(files)));
    }

    fn host_file_run(&self, secret: &str) -> Option<Arc<HostFiles>> {
        self.host_file_runs()
            .iter()
            .find(|(s, _)| s == secret)
            .map(|(_, run)| run.clone())
    }

    /// `PUT /hostfs/SECRET/out/N`: the bytes of a file the run changed,
    /// kept as `uploads/N` once all `len` of them have arrived. The status.
    pub fn receive_host_file(&self, target: &str, body: &mut impl std::io::Read, len: u64) -> u16 {
        let parsed = target
            .strip_prefix(capos_config::manifest::HOST_FILES_PREFIX)
            .and_then(|rest| rest.split_once("/out/"))
            .and_then(|(secret, n)| Some((self.host_file_run(secret)?, n.parse::<u64>().ok()?)));
        let Some((run, n)) = parsed else {
            return 404;
        };
        if len > capos_config::manifest::MAX_FILE_SIZE {
            return 413;
        }
        let part = run.uploads.join(format!("{n}.part"));
        let received = std::fs::File::create(&part)
            .and_then(|mut file| std::io::copy(body, &mut file))
            .and_then(|copied| {
                if copied == len {
                    std::fs::rename(&part, run.uploads.join(n.to_string()))
                } else {
                    Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof))
                }
            });
        match received {
            Ok(()) => 201,
            Err(_) => {
                let _ = std::fs::remove_file(&part);
                500
            }
        }
    }

    pub fn remove_host_files(&self, secret: &str) {
        self.host_file_runs().retain(|(s, _)| s != secret);
    }

    fn host_file_runs(&self) -> std::sync::MutexGuard<'_, Vec<(String, Arc<HostFiles>)>> {
        // As `extra`: each change is one call.
        self.host_files.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `SECRET/ID` of a run's host file: its bytes as they are now. A
    /// symlink put in its place since the run began is not followed, and a
    /// FIFO does not block.
    fn host_file(&self, rest: &str) -> Option<Resource> {
        use std::io::Read as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let (secret, id) = rest.split_once('/')?;
        let id: usize = id.parse().ok()?;
        let run = self.host_file_run(secret)?;
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(run.files.get(id)?)
            .ok()?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).ok()?;
        Some(Resource::new(bytes, "application/octet-stream", None))
    }

    fn extra(&self) -> std::sync::MutexGuard<'_, Vec<(String, Arc<Vec<u8>>)>> {
        // The list is consistent after any panic (each change is one call).
        self.extra.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn manifest_dir(&self) -> PathBuf {
        self.root.join("build/site/manifests")
    }

    /// Built demo manifests, sorted.
    pub fn demo_names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.manifest_dir())
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                e.file_name()
                    .to_str()?
                    .strip_suffix(".bin")
                    .map(str::to_string)
            })
            .collect();
        names.sort();
        names
    }

    /// The response for a request path, or `None` (404). Refuses anything
    /// that could step outside a mounted directory. A runtime module is
    /// served precompressed (brotli, else gzip) when `accept_encoding` allows.
    pub fn resource(&self, url_path: &str, accept_encoding: &str) -> Option<Resource> {
        let path = url_path.split(['?', '#']).next().unwrap_or("/");
        let extra = self
            .extra()
            .iter()
            .find(|(p, _)| p == path)
            .map(|e| e.1.clone());
        if let Some(bytes) = extra {
            return Some(Resource::new(bytes.to_vec(), content_type(path), None));
        }
        if let Some(rest) = path.strip_prefix(capos_config::manifest::HOST_FILES_PREFIX) {
            return self.host_file(rest);
        }
        if path == "/manifests/index.json" {
            let list = serde_json::to_vec(&self.demo_names()).ok()?;
            return Some(Resource::new(list, "application/json", None));
        }
        if !path.starts_with('/')
            || path.contains('\\')
            || path.contains('%')
            || path.split('/').any(|seg| seg == ".." || seg == ".")
        {
            return None;
        }
        let path = if path.ends_with('/') {
            format!("{path}index.html")
        } else {
            path.to_string()
        };
        let (prefix, dir) = self.mounts.iter().find(|(p, _)| path.starts_with(p))?;
        let file = dir.join(&path[prefix.len()..]);
        if path.starts_with("/runtimes/") && path.ends_with(".wasm") {
            for (encoding, suffix) in [("br", "br"), ("gzip", "gz")] {
                if !accepts(accept_encoding, encoding) {
                    continue;
                }
                let variant = file.with_extension(format!("wasm.{suffix}"));
                if let Some(mut resource) = read_resource(&variant, content_type(&path)) {
                    resource.content_encoding = Some(encoding);
                    // One tag per representation.
                    resource.etag = resource
                        .etag
                        .map(|t| format!("{}-{encoding}\"", t.trim_end_matches('"')));
                    return Some(resource);
                }
            }
        }
        read_resource(&file, content_type(&path))
    }
}

/// Whether an Accept-Encoding value accepts `coding` (listed, and not with q=0).
fn accepts(accept_encoding: &str, coding: &str) -> bool {
    accept_encoding.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let listed = parts.next().is_some_and(|c| c.eq_ignore_ascii_case(coding));
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                == Some(0.0)
        });
        listed && !refused
    })
}

/// A file's bytes, with an entity tag from its size and modification time (it
/// changes whenever a rebuild changes the file).
fn read_resource(file: &Path, content_type: &'static str) -> Option<Resource> {
    let bytes = std::fs::read(file).ok()?;
    let etag = std::fs::metadata(file).ok().and_then(|m| {
        let modified = m
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?;
        Some(format!("\"{:x}-{:x}\"", m.len(), modified.as_nanos()))
    });
    Some(Resource::new(bytes, content_type, etag))
}

/// A response body with its type and entity tag.
pub struct Resource {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub etag: Option<String>,
    /// `br` or `gzip` when the bytes are a compressed variant.
    pub content_encoding: Option<&'static str>,
}

impl Resource {
    fn new(bytes: Vec<u8>, content_type: &'static str, etag: Option<String>) -> Self {
        Self {
            bytes,
            content_type,
            etag,
            content_encoding: None,
        }
    }
}

pub fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(dir: &Path) -> Site {
        std::fs::create_dir_all(dir.join("web/kernel")).unwrap();
        std::fs::write(dir.join("web/index.html"), "<html>").unwrap();
        std::fs::write(dir.join("web/kernel/k.js"), "x").unwrap();
        std::fs::write(dir.join("secret.txt"), "no").unwrap();
        let site = Site::new(dir.to_path_buf(), vec![("/", dir.join("web"))], false);
        site.add_file("/boot/manifest.bin", vec![1, 2]);
        site
    }

    #[test]
    fn serves_files_with_their_types_and_refuses_traversal() {
        let dir = std::env::temp_dir().join(format!("capos-site-test-{}", std::process::id()));
        let s = site(&dir);
        assert_eq!(
            s.resource("/", "").unwrap().content_type,
            "text/html; charset=utf-8"
        );
        let js = s.resource("/kernel/k.js?x=1", "").unwrap();
        assert_eq!(js.bytes, b"x");
        assert!(js.etag.is_some(), "files can be revalidated");
        assert_eq!(s.resource("/boot/manifest.bin", "").unwrap().bytes, [1, 2]);
        for bad in [
            "/../secret.txt",
            "/kernel/../../secret.txt",
            "/%2e%2e/secret.txt",
            "/..\\secret.txt",
        ] {
            assert!(s.resource(bad, "").is_none(), "{bad}");
        }
        assert!(s.resource("/missing.js", "").is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn runtimes_are_served_precompressed_as_the_client_accepts() {
        let dir = std::env::temp_dir().join(format!("capos-site-rt-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("rt")).unwrap();
        std::fs::write(dir.join("rt/python.wasm"), "raw").unwrap();
        std::fs::write(dir.join("rt/python.wasm.br"), "brotli").unwrap();
        std::fs::write(dir.join("rt/python.wasm.gz"), "gzip").unwrap();
        let s = Site::new(dir.clone(), vec![("/runtimes/", dir.join("rt"))], false);
        let get = |accept: &str| {
            let r = s.resource("/runtimes/python.wasm", accept).unwrap();
            assert_eq!(r.content_type, "application/wasm");
            (
                String::from_utf8(r.bytes).unwrap(),
                r.content_encoding,
                r.etag.unwrap(),
            )
        };
        let (br, encoding, br_tag) = get("gzip, deflate, br, zstd");
        assert_eq!((br.as_str(), encoding), ("brotli", Some("br")));
        let (gz, encoding, gz_tag) = get("gzip;q=1.0, br;q=0");
        assert_eq!((gz.as_str(), encoding), ("gzip", Some("gzip")));
        let (raw, encoding, raw_tag) = get("");
        assert_eq!((raw.as_str(), encoding), ("raw", None));
        assert!(
            br_tag != gz_tag && gz_tag != raw_tag,
            "each representation has its own tag"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn wasm_is_served_as_application_wasm() {
        assert_eq!(
            content_type("/pkg/capos_kernel_wasm_bg.wasm"),
            "application/wasm"
        );
        assert_eq!(content_type("/main.js"), "text/javascript; charset=utf-8");
    }

    #[test]
    fn host_files_are_served_by_their_run_secret_and_id_only() {
        let dir = std::env::temp_dir().join(format!("capos-host-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.txt"), b"bytes\0\xff").unwrap();
        std::fs::write(dir.join("secret.txt"), "no").unwrap();
        std::os::unix::fs::symlink(dir.join("secret.txt"), dir.join("swapped")).unwrap();
        let s = Site::with_files(Vec::new());
        let uploads = dir.join("uploads");
        std::fs::create_dir(&uploads).unwrap();
        s.add_host_files(
            "ab12",
            HostFiles {
                files: vec![dir.join("a.txt"), dir.join("swapped")],
                uploads: uploads.clone(),
            },
        );
        let body = |path: &str| s.resource(path, "").map(|r| r.bytes);
        assert_eq!(body("/hostfs/ab12/0").unwrap(), b"bytes\0\xff");
        assert_eq!(host_files_url("ab12"), "/hostfs/ab12/");
        for refused in [
            "/hostfs/ab12/1",    // a symlink now: not followed
            "/hostfs/ab12/2",    // no such id
            "/hostfs/ab13/0",    // another secret
            "/hostfs/ab12/../0", // not an id
            "/hostfs/ab12/",
        ] {
            assert!(body(refused).is_none(), "{refused}");
        }
        let put = |target: &str, bytes: &[u8], len: u64| {
            s.receive_host_file(target, &mut &bytes[..], len)
        };
        assert_eq!(put("/hostfs/ab12/out/3", b"changed", 7), 201);
        assert_eq!(std::fs::read(uploads.join("3")).unwrap(), b"changed");
        assert_eq!(
            put("/hostfs/ab12/out/4", b"cut sh", 10),
            500,
            "a short body is not kept"
        );
        assert!(!uploads.join("4").exists() && !uploads.join("4.part").exists());
        assert_eq!(put("/hostfs/ab13/out/5", b"x", 1), 404);
        assert_eq!(put("/hostfs/ab12/out/../5", b"x", 1), 404);
        assert_eq!(put("/hostfs/ab12/out/6", b"", 1 << 40), 413);
        s.remove_host_files("ab12");
        assert!(
            body("/hostfs/ab12/0").is_none(),
            "gone once the run is over"
        );
        assert_eq!(put("/hostfs/ab12/out/7", b"x", 1), 404);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
