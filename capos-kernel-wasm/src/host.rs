//! What the kernel needs from its substrate. The browser implementation is
//! in `web.rs`; tests use an in-memory one.

use crate::view::UiEvent;
use capos_config::manifest::Binary;
use capos_config::ring::RingMemory;

/// What a new process is started with, each block already encoded.
#[derive(Debug)]
pub struct Startup<'a> {
    /// The encoded CapSet.
    pub capset: &'a [u8],
    /// NUL-terminated arguments.
    pub argv: &'a [u8],
    /// NUL-terminated `KEY=VALUE` strings.
    pub env: &'a [u8],
    /// Imports the host does not provide trap when called (else the
    /// program fails to start, naming the first of them).
    pub trap_unknown_imports: bool,
    /// The most linear memory the process may have, in MiB (validated).
    pub memory_limit_mib: u32,
}

pub trait Host: 'static {
    type Ring: RingMemory;

    /// A fresh, zeroed ring shared with exactly one process.
    fn create_ring(&mut self) -> Self::Ring;

    /// Starts process `pid` (a new Worker) running `binary` on `ring`, with its
    /// startup blocks (CapSet, argv, environment). Failure to start (a module
    /// that does not compile, a runtime that cannot be loaded or fails its
    /// SHA-256 check) is reported later through
    /// [`Kernel::process_failed`](crate::kernel::Kernel::process_failed).
    fn start_process(
        &mut self,
        pid: u32,
        name: &str,
        binary: &Binary,
        ring: &Self::Ring,
        startup: &Startup<'_>,
    );

    /// Stops process `pid`'s Worker for good.
    fn stop_process(&mut self, pid: u32);

    /// Publishes a view model to the (untrusted) UI.
    fn emit(&mut self, event: UiEvent);

    /// Monotonic nanoseconds since the kernel started.
    fn now_ns(&mut self) -> u64;

    /// Nanoseconds since the Unix epoch.
    fn realtime_ns(&mut self) -> u64;

    /// Fills `buf` with cryptographically secure random bytes.
    fn fill_random(&mut self, buf: &mut [u8]);

    /// Starts (or continues) asynchronous work the browser does for a
    /// service: a fetch, a storage transaction. What comes of it arrives
    /// through [`Kernel::host_reply`](crate::kernel::Kernel::host_reply)
    /// with the same `id`, never during this call.
    fn host_request(&mut self, id: u32, request: HostRequest<'_>);
}

/// Work the kernel asks the browser to do for a service.
#[derive(Debug, serde::Serialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum HostRequest<'a> {
    /// Sends an HTTP request; replies `HttpHead` (or `Failed`). For an
    /// endpoint (`endpoint_origin` set) a redirect is refused rather than
    /// followed, and the host checks the URL is on that origin.
    #[serde(rename_all = "camelCase")]
    HttpStart {
        method: &'a str,
        url: &'a str,
        headers: &'a [(String, String)],
        #[serde(skip)]
        body: &'a [u8],
        timeout_ms: u32,
        endpoint_origin: Option<&'a str>,
    },
    /// Delivers the next chunk of the body: replies `HttpChunk`, `HttpEnd`
    /// or `Failed`. Asked for only while the kernel holds at most one chunk
    /// of the body, so it never holds more than two.
    HttpPull,
    /// Stops the transfer; nothing more is replied.
    HttpCancel,
    /// Replies `KvValue`.
    #[serde(rename_all = "camelCase")]
    KvGet { namespace: &'a str, key: &'a str },
    /// Replies `KvDone`.
    #[serde(rename_all = "camelCase")]
    KvPut {
        namespace: &'a str,
        key: &'a str,
        #[serde(skip)]
        value: &'a [u8],
    },
    /// Replies `KvValue` with the old value's presence (its bytes empty).
    #[serde(rename_all = "camelCase")]
    KvDelete { namespace: &'a str, key: &'a str },
    /// Asks the page for the clipboard's text: replies `ClipboardText`.
    ClipboardRead,
    /// Asks the page to set the clipboard's text: replies `Done`.
    #[serde(rename_all = "camelCase")]
    ClipboardWrite { text: &'a str },
    /// Shows a display on the page. A long exchange: the page replies
    /// `DisplayDrawn` for each frame and `DisplayEvent` for a resize or a
    /// close, until `DisplayClose`.
    #[serde(rename_all = "camelCase")]
    DisplayOpen { width: u32, height: u32 },
    /// A frame for an open display: `width * height` RGBA pixels as the payload.
    #[serde(rename_all = "camelCase")]
    DisplayFrame {
        width: u32,
        height: u32,
        #[serde(skip)]
        pixels: &'a [u8],
    },
    /// Takes the display off the page; nothing more is replied.
    DisplayClose,
    /// Commits a persistent store: the payload is the new index
    /// (`index_bytes` long) followed by each of `blobs` (id, length) in
    /// order. The host writes the blobs, then replaces the index in one
    /// atomic step, then deletes the `obsolete` blobs. Replies `Done`, or
    /// `Failed` (kind `Quota` when storage is full) with the old index
    /// still in place.
    #[serde(rename_all = "camelCase")]
    StoreCommit {
        store: &'a str,
        index_bytes: u64,
        blobs: &'a [(u64, u64)],
        obsolete: &'a [u64],
        #[serde(skip)]
        payload: &'a [u8],
    },
    /// Asks the peer of a connection for its next bytes: replies `NetData`
    /// or `NetEnd` (it finished sending), or `Failed` (it is gone). Asked
    /// for only when the kernel holds none of its bytes.
    NetPull,
    /// Sends bytes to the peer; replies `NetSent` once the peer took them.
    #[serde(rename_all = "camelCase")]
    NetSend {
        #[serde(skip)]
        data: &'a [u8],
    },
    /// No more bytes for the peer: it sees the end of the stream after
    /// what was sent.
    NetShutdown,
    /// Closes the connection (after what was sent); nothing more is replied.
    NetClose,
    /// Reads a host file's bytes (`capos run --dir`) from `url`, a path on
    /// the page's own origin: replies `FileData`, or `Failed`. `size` is
    /// what the file held when the run started.
    #[serde(rename_all = "camelCase")]
    HostFileRead { url: &'a str, size: u64 },
    /// Sends a changed file's bytes back to the host (`capos run --dir`,
    /// at halt) with a `PUT` to `url`: replies `Done` or `Failed`. The page
    /// hears "halted" only once every one has landed.
    #[serde(rename_all = "camelCase")]
    HostFileWrite {
        url: &'a str,
        #[serde(skip)]
        data: &'a [u8],
    },
    /// Replies `KvKeys`: keys starting with `prefix`, after `after`, at
    /// most `max` and one more if there are more.
    #[serde(rename_all = "camelCase")]
    KvList {
        namespace: &'a str,
        prefix: &'a str,
        after: &'a str,
        max: u32,
    },
}

impl HostRequest<'_> {
    /// Whether the request ends the exchange from the kernel's side.
    pub fn is_cancel(&self) -> bool {
        matches!(self, Self::HttpCancel | Self::DisplayClose | Self::NetClose)
    }

    /// The bytes the request carries (a body, a value), which travel
    /// beside its serialized form rather than in it.
    pub fn payload(&self) -> &[u8] {
        match self {
            Self::HttpStart { body, .. } => body,
            Self::KvPut { value, .. } => value,
            Self::DisplayFrame { pixels, .. } => pixels,
            Self::StoreCommit { payload, .. } => payload,
            Self::NetSend { data } => data,
            Self::HostFileWrite { data, .. } => data,
            _ => &[],
        }
    }
}

/// A persistent store as the host loaded it before the boot.
#[derive(Debug, Default)]
pub struct StoreImage {
    pub name: String,
    /// Its index (schema/store.capnp); `None`: there is no such store yet.
    pub index: Option<Vec<u8>>,
    /// The bytes of every blob the index names, by id.
    pub blobs: std::collections::HashMap<u64, Vec<u8>>,
    /// What the browser still grants the site (its quota less its usage).
    pub available_bytes: u64,
}

/// What the browser answered a [`HostRequest`] with.
#[derive(Debug, PartialEq, Eq)]
pub enum HostReply {
    HttpHead {
        status: u16,
        status_text: String,
        url: String,
        redirected: bool,
        headers: Vec<(String, String)>,
    },
    HttpChunk(Vec<u8>),
    HttpEnd,
    KvValue(Option<Vec<u8>>),
    KvDone,
    KvKeys(Vec<String>),
    ClipboardText(String),
    /// A host file's bytes.
    FileData(Vec<u8>),
    /// A connection's peer sent these bytes.
    NetData(Vec<u8>),
    /// A connection's peer finished sending.
    NetEnd,
    /// A connection's peer took the oldest bytes sent to it.
    NetSent,
    /// The work is done and there is nothing to say (a clipboard write).
    Done,
    /// The page has drawn the display's last frame.
    DisplayDrawn,
    /// The page resized (`closed` false) or closed the display.
    DisplayEvent {
        closed: bool,
        width: u32,
        height: u32,
    },
    /// The work failed: `kind` says how, `message` what a person should know.
    Failed {
        kind: HostFailure,
        message: String,
    },
}

impl HostReply {
    /// Whether nothing more will come for this id.
    pub fn is_final(&self) -> bool {
        !matches!(
            self,
            Self::HttpHead { .. }
                | Self::HttpChunk(_)
                | Self::DisplayDrawn
                | Self::DisplayEvent { .. }
                | Self::NetData(_)
                | Self::NetEnd
                | Self::NetSent
        )
    }
}

/// How a host request failed, as the browser classified it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostFailure {
    /// Refused by policy: CORS, a redirect off the origin, a forbidden header.
    Denied,
    /// The request was not valid (the browser's TypeError).
    Invalid,
    /// The network failed, or the deadline passed.
    Network,
    Timeout,
    /// Storage is full.
    Quota,
    /// Anything else the browser threw.
    Other,
}

impl HostFailure {
    pub fn from_name(name: &str) -> Self {
        match name {
            "denied" => Self::Denied,
            "invalid" => Self::Invalid,
            "network" => Self::Network,
            "timeout" => Self::Timeout,
            "quota" => Self::Quota,
            _ => Self::Other,
        }
    }
}

/// A service waiting for the replies to its host requests.
pub trait HostClient<H: Host> {
    fn on_reply(&self, kernel: &mut crate::kernel::Kernel<H>, id: u32, reply: HostReply);
}
