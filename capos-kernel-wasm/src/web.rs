//! The kernel's browser edge: rings in SharedArrayBuffers and the
//! JavaScript host (web/kernel/process-host.js) that owns the Worker objects.
//! Exported to the kernel Worker as class `Kernel`.

use crate::host::{Host, HostFailure, HostReply, HostRequest, Startup, StoreImage};
use crate::kernel::Kernel;
use crate::view::UiEvent;
use capos_config::manifest::Binary;
use capos_config::ring::{RING_SIZE, RingMemory, Span};
use capos_schema::wasi_manifest::HostNode;
use js_sys::{Int32Array, SharedArrayBuffer, Uint8Array};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

/// Where a WASI program run from the page finds its scratch directory (the
/// demo tours' default directory).
const PAGE_SCRATCH_DIR: &str = "/data";
/// Where the page's WASI programs find the persistent store "home".
const PAGE_HOME_DIR: &str = "/home";
const PAGE_HOME_STORE: &str = "home";

#[wasm_bindgen]
extern "C" {
    /// The JavaScript half of the kernel Worker: creates and terminates
    /// process Workers and posts view models to the main thread.
    #[derive(Clone)]
    pub type JsHost;

    #[wasm_bindgen(method, js_name = startProcess)]
    fn start_process(
        this: &JsHost,
        pid: u32,
        name: &str,
        binary: &[u8],
        runtime: &str,
        runtime_sha256: &str,
        ring: &SharedArrayBuffer,
        capset: &[u8],
        argv: &[u8],
        env: &[u8],
        trap_unknown_imports: bool,
        memory_limit_mib: u32,
    );

    #[wasm_bindgen(method, js_name = stopProcess)]
    fn stop_process(this: &JsHost, pid: u32);

    #[wasm_bindgen(method)]
    fn emit(this: &JsHost, event: JsValue);

    #[wasm_bindgen(method, js_name = kernelPanic)]
    fn kernel_panic(this: &JsHost, message: &str);

    #[wasm_bindgen(method, js_name = nowMs)]
    fn now_ms(this: &JsHost) -> f64;

    #[wasm_bindgen(method, js_name = epochMs)]
    fn epoch_ms(this: &JsHost) -> f64;

    #[wasm_bindgen(method, js_name = fillRandom)]
    fn fill_random(this: &JsHost, buf: &mut [u8]);

    /// Starts or continues host work (web/kernel/host-services.js); the
    /// payload (a body, a value) is a view valid only during the call.
    #[wasm_bindgen(method, js_name = hostRequest)]
    fn host_request(this: &JsHost, id: u32, request: JsValue, payload: &[u8]);
}

// The ring's shared-memory accessors. Kept in JS so each is one call from
// wasm with no temporary objects: the kernel makes several per SQE. Copies
// go straight between the SharedArrayBuffer and the kernel's own memory,
// through a view of that memory re-made only when it grows.
#[wasm_bindgen(inline_js = r#"
let memory = null;
let view = new Uint8Array(0);
let wordView = new Int32Array(0);
// memory.grow detaches the old buffer, which empties views of it.
const kernelBytes = () => (view.length !== 0 ? view : (view = new Uint8Array(memory.buffer)));
const kernelWords = () => (wordView.length !== 0 ? wordView : (wordView = new Int32Array(memory.buffer)));
export function ringInit(kernelMemory) { memory = kernelMemory; }
export function ringLoad(words, index) { return Atomics.load(words, index); }
export function ringStore(words, index, value) { Atomics.store(words, index, value); }
export function ringAdd(words, index, value) { return Atomics.add(words, index, value); }
export function ringNotify(words, index) { Atomics.notify(words, index); }
// Small copies (entries, Cap'n Proto messages: whole words, word-aligned on
// both sides) go a word at a time; large ones through TypedArray.set.
export function ringRead(words, bytes, offset, ptr, len) {
  if (len > 256) { kernelBytes().set(bytes.subarray(offset, offset + len), ptr); return; }
  if (((offset | ptr | len) & 3) === 0) {
    const mem = kernelWords();
    const from = offset >>> 2, to = ptr >>> 2;
    for (let i = 0, n = len >>> 2; i < n; i++) mem[to + i] = words[from + i];
    return;
  }
  const mem = kernelBytes();
  for (let i = 0; i < len; i++) mem[ptr + i] = bytes[offset + i];
}
// A batch's data slots in one crossing: `count` spans (ring offset, offset
// in kernel memory from `base`, length: three u32s each) at `spansPtr`.
export function ringGather(words, bytes, spansPtr, count, base) {
  const spans = kernelWords(); // re-read below: a copy never grows memory
  for (let i = 0, s = spansPtr >>> 2; i < count; i++, s += 3) {
    ringRead(words, bytes, spans[s] >>> 0, base + (spans[s + 1] >>> 0), spans[s + 2] >>> 0);
  }
}
export function ringScatter(words, bytes, spansPtr, count, base) {
  const spans = kernelWords();
  for (let i = 0, s = spansPtr >>> 2; i < count; i++, s += 3) {
    ringWrite(words, bytes, spans[s] >>> 0, base + (spans[s + 1] >>> 0), spans[s + 2] >>> 0);
  }
}
export function ringWrite(words, bytes, offset, ptr, len) {
  if (len > 256) { bytes.set(kernelBytes().subarray(ptr, ptr + len), offset); return; }
  if (((offset | ptr | len) & 3) === 0) {
    const mem = kernelWords();
    const from = ptr >>> 2, to = offset >>> 2;
    for (let i = 0, n = len >>> 2; i < n; i++) words[to + i] = mem[from + i];
    return;
  }
  const mem = kernelBytes();
  for (let i = 0; i < len; i++) bytes[offset + i] = mem[ptr + i];
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = ringInit)]
    fn ring_init(kernel_memory: JsValue);
    #[wasm_bindgen(js_name = ringLoad)]
    fn ring_load(words: &Int32Array, index: u32) -> i32;
    #[wasm_bindgen(js_name = ringStore)]
    fn ring_store(words: &Int32Array, index: u32, value: i32);
    #[wasm_bindgen(js_name = ringAdd)]
    fn ring_add(words: &Int32Array, index: u32, value: i32) -> i32;
    #[wasm_bindgen(js_name = ringNotify)]
    fn ring_notify(words: &Int32Array, index: u32);
    #[wasm_bindgen(js_name = ringRead)]
    fn ring_read(words: &Int32Array, bytes: &Uint8Array, offset: u32, ptr: u32, len: u32);
    #[wasm_bindgen(js_name = ringWrite)]
    fn ring_write(words: &Int32Array, bytes: &Uint8Array, offset: u32, ptr: u32, len: u32);
    #[wasm_bindgen(js_name = ringGather)]
    fn ring_gather(words: &Int32Array, bytes: &Uint8Array, spans: u32, count: u32, base: u32);
    #[wasm_bindgen(js_name = ringScatter)]
    fn ring_scatter(words: &Int32Array, bytes: &Uint8Array, spans: u32, count: u32, base: u32);
}

thread_local! {
    /// Where the panic hook reports: the host of the kernel that panicked.
    static PANIC_HOST: RefCell<Option<JsHost>> = const { RefCell::new(None) };
}

/// One process's ring: a SharedArrayBuffer the kernel reaches with `Atomics`.
pub struct SabRing {
    sab: SharedArrayBuffer,
    words: Int32Array,
    bytes: Uint8Array,
}

impl SabRing {
    fn new() -> Self {
        let sab = SharedArrayBuffer::new(RING_SIZE as u32);
        let words = Int32Array::new(&sab);
        let bytes = Uint8Array::new(&sab);
        Self { sab, words, bytes }
    }
}

// Offsets come from capos-config's layout constants and masks, so they are in
// bounds by construction.
impl RingMemory for SabRing {
    fn load(&self, offset: usize) -> u32 {
        ring_load(&self.words, (offset / 4) as u32) as u32
    }
    fn store(&self, offset: usize, value: u32) {
        ring_store(&self.words, (offset / 4) as u32, value as i32);
    }
    fn fetch_add(&self, offset: usize, value: u32) -> u32 {
        ring_add(&self.words, (offset / 4) as u32, value as i32) as u32
    }
    // The pointers are into this module's own memory (wasm32: addresses are
    // offsets in it), and the JS side copies exactly `len` bytes there.
    fn read(&self, offset: usize, out: &mut [u8]) {
        ring_read(
            &self.words,
            &self.bytes,
            offset as u32,
            out.as_mut_ptr() as u32,
            out.len() as u32,
        );
    }
    fn write(&self, offset: usize, data: &[u8]) {
        ring_write(
            &self.words,
            &self.bytes,
            offset as u32,
            data.as_ptr() as u32,
            data.len() as u32,
        );
    }
    fn notify(&self, offset: usize) {
        ring_notify(&self.words, (offset / 4) as u32);
    }
    // The spans are the ring code's own (in bounds of the ring and of the
    // buffer); the JS side reads them from this module's memory.
    fn gather(&self, spans: &[Span], out: &mut [u8]) {
        let base = out.as_mut_ptr() as u32;
        ring_gather(
            &self.words,
            &self.bytes,
            spans.as_ptr() as u32,
            spans.len() as u32,
            base,
        );
    }
    fn scatter(&self, spans: &[Span], from: &[u8]) {
        let base = from.as_ptr() as u32;
        ring_scatter(
            &self.words,
            &self.bytes,
            spans.as_ptr() as u32,
            spans.len() as u32,
            base,
        );
    }
    // Nothing to do: `load`, `store` and `fetch_add` are `Atomics` on the
    // ring's SharedArrayBuffer, and the process's glue reaches the ring's
    // index and flag words only with `Atomics` too. Sequentially consistent
    // atomics all fall in one total order, so a store and a later load of
    // another word are never reordered, which is all the fence is for.
    // (JavaScript has no standalone fence: should either side ever touch
    // those words without `Atomics`, that access must become `Atomics`
    // again; a fence here would not help.)
    fn fence_seqcst(&self) {}
}

pub struct WebHost {
    js: JsHost,
}

impl Host for WebHost {
    type Ring = SabRing;

    fn now_ns(&mut self) -> u64 {
        (self.js.now_ms() * 1e6) as u64
    }

    fn realtime_ns(&mut self) -> u64 {
        (self.js.epoch_ms() * 1e6) as u64
    }

    fn fill_random(&mut self, buf: &mut [u8]) {
        self.js.fill_random(buf);
    }

    fn host_request(&mut self, id: u32, request: HostRequest<'_>) {
        let serializer = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
        match serde::Serialize::serialize(&request, &serializer) {
            Ok(value) => self.js.host_request(id, value, request.payload()),
            Err(e) => panic!("host request did not serialize: {e}"),
        }
    }

    fn create_ring(&mut self) -> SabRing {
        SabRing::new()
    }

    fn start_process(
        &mut self,
        pid: u32,
        name: &str,
        binary: &Binary,
        ring: &SabRing,
        startup: &Startup<'_>,
    ) {
        // A runtime travels as its name and hash (empty: the catalogue's), with no bytes.
        let (module, runtime, sha256): (&[u8], &str, &str) = match binary {
            Binary::Module(bytes) => (bytes, "", ""),
            Binary::Runtime(r) => (&[], &r.name, r.sha256.as_deref().unwrap_or("")),
        };
        self.js.start_process(
            pid,
            name,
            module,
            runtime,
            sha256,
            &ring.sab,
            startup.capset,
            startup.argv,
            startup.env,
            startup.trap_unknown_imports,
            startup.memory_limit_mib,
        );
    }

    fn stop_process(&mut self, pid: u32) {
        self.js.stop_process(pid);
    }

    fn emit(&mut self, event: UiEvent) {
        // `None` as `null`, which the page's validators expect.
        let serializer = serde_wasm_bindgen::Serializer::new()
            .serialize_maps_as_objects(true)
            .serialize_missing_as_null(true);
        match serde::Serialize::serialize(&event, &serializer) {
            Ok(value) => self.js.emit(value),
            Err(e) => panic!("view model did not serialize: {e}"),
        }
    }
}

/// What a page boot runs: `module`'s bytes, or (`runtime` not empty) that
/// catalogue runtime at the catalogue's hash.
fn page_program<'a>(
    module: &'a [u8],
    runtime: &'a str,
) -> capos_schema::wasi_manifest::Program<'a> {
    use capos_schema::wasi_manifest::Program;
    if runtime.is_empty() {
        Program::Module(module)
    } else {
        Program::Runtime {
            name: runtime,
            sha256: "",
        }
    }
}

/// The kernel, as the kernel Worker's JavaScript sees it.
#[wasm_bindgen(js_name = Kernel)]
pub struct WasmKernel {
    kernel: Kernel<WebHost>,
    /// Stores the host loaded, until `boot`.
    stores: Vec<StoreImage>,
}

#[wasm_bindgen(js_class = Kernel)]
impl WasmKernel {
    /// A kernel whose Workers and view models go through `host`. A panic
    /// anywhere in the kernel is reported through `host.kernelPanic`.
    #[wasm_bindgen(constructor)]
    pub fn new(host: JsHost) -> WasmKernel {
        ring_init(wasm_bindgen::memory());
        PANIC_HOST.with(|h| *h.borrow_mut() = Some(host.clone()));
        std::panic::set_hook(Box::new(|info| {
            let message = info.to_string();
            PANIC_HOST.with(|h| {
                if let Some(host) = h.borrow().as_ref() {
                    host.kernel_panic(&message);
                }
            });
        }));
        WasmKernel {
            kernel: Kernel::new(WebHost { js: host }, crate::caps::init_grants),
            stores: Vec::new(),
        }
    }

    /// Boots a binary manifest; returns init's pid. A bad manifest is
    /// reported to the UI (`bootError`) and thrown.
    pub fn boot(&mut self, manifest: &[u8]) -> Result<u32, JsError> {
        for image in self.stores.drain(..) {
            self.kernel.add_store_image(image);
        }
        self.kernel.boot(manifest).map_err(|e| JsError::new(&e))
    }

    /// After the boot: holds the stores given since (`addStore`,
    /// `storeBlob`) for the page's file browser; no program is granted them.
    #[wasm_bindgen(js_name = attachStores)]
    pub fn attach_stores(&mut self) -> Result<(), JsError> {
        for image in std::mem::take(&mut self.stores) {
            self.kernel
                .attach_store(image)
                .map_err(|e| JsError::new(&e))?;
        }
        Ok(())
    }

    /// The manifest of one WASI program run from the page (the "run" form,
    /// a runtime's REPL, a dropped script, a project), with the same grants
    /// as `capos run`: an in-memory directory at `PAGE_SCRATCH_DIR` (gone at
    /// the next boot) and, with `home`, the persistent store "home" at
    /// `PAGE_HOME_DIR`. The program is `module`'s bytes or, when `runtime`
    /// is not empty, that catalogue runtime. `files` (name, bytes) are put in
    /// the scratch directory first (the script a runtime is asked to run).
    #[wasm_bindgen(js_name = wasiManifest)]
    #[allow(clippy::too_many_arguments)]
    pub fn wasi_manifest(
        name: &str,
        module: &[u8],
        runtime: &str,
        argv: Vec<String>,
        env: Vec<String>,
        file_name: &str,
        file: &[u8],
        home: bool,
    ) -> Vec<u8> {
        let files = if file_name.is_empty() {
            Vec::new()
        } else {
            vec![(file_name.to_owned(), HostNode::File(file.to_vec()))]
        };
        let scratch = [(PAGE_SCRATCH_DIR.to_owned(), HostNode::Directory(files))];
        let stores = [(
            PAGE_HOME_DIR.to_owned(),
            PAGE_HOME_STORE.to_owned(),
            String::new(),
        )];
        let program = page_program(module, runtime);
        capos_schema::wasi_manifest::build(&capos_schema::wasi_manifest::WasiProgram {
            name,
            program,
            argv: &argv,
            env: &env,
            mounts: &scratch,
            stores: if home { &stores } else { &[] },
            mount_stores: None,
            terminal: Default::default(), // The page's terminal is one.
            trap_unknown_imports: false,
            fetch: false,
            listen: &[],
            host_files: "",
        })
    }

    /// What runs a project folder a person opened on the page, given its
    /// files' paths and the texts detection reads (`package.json`,
    /// `pyproject.toml`; absent when not UTF-8): `{language, runtime, wasm,
    /// args, env}` (one of `runtime`, `wasm` empty), or an error saying
    /// which files were looked for.
    #[wasm_bindgen(js_name = projectPlan)]
    pub fn project_plan(
        name: &str,
        paths: Vec<String>,
        text_paths: Vec<String>,
        texts: Vec<String>,
    ) -> Result<js_sys::Object, JsError> {
        use capos_schema::project::{self, Listing, Program};
        let listing = Listing {
            paths: paths.into_iter().collect(),
            texts: text_paths.into_iter().zip(texts).collect(),
        };
        let plan = project::detect(&listing, name).map_err(|e| JsError::new(&e))?;
        let (runtime, wasm) = match &plan.program {
            Program::Runtime(r) => (*r, ""),
            Program::Wasm(path) => ("", path.as_str()),
        };
        let out = js_sys::Object::new();
        let list = |items: &[String]| items.iter().map(JsValue::from).collect::<js_sys::Array>();
        for (key, value) in [
            ("language", JsValue::from(plan.language)),
            ("runtime", runtime.into()),
            ("wasm", wasm.into()),
            ("args", list(&plan.args).into()),
            ("env", list(&plan.env).into()),
        ] {
            js_sys::Reflect::set(&out, &key.into(), &value).ok();
        }
        Ok(out)
    }

    /// The manifest of a project run from the page: its program (`module`,
    /// or catalogue `runtime`) with `argv` and `env`, and the project's
    /// folder of the store "home" (`home/<folder>`) granted at `/project`,
    /// as `capos run-project` grants the folder it runs. Nothing else of
    /// the store is granted.
    #[wasm_bindgen(js_name = projectManifest)]
    pub fn project_manifest(
        folder: &str,
        module: &[u8],
        runtime: &str,
        argv: Vec<String>,
        env: Vec<String>,
    ) -> Vec<u8> {
        let stores = [(
            capos_schema::project::GUEST.to_owned(),
            PAGE_HOME_STORE.to_owned(),
            folder.to_owned(),
        )];
        let program = page_program(module, runtime);
        capos_schema::wasi_manifest::build(&capos_schema::wasi_manifest::WasiProgram {
            name: folder,
            program,
            argv: &argv,
            env: &env,
            mounts: &[],
            stores: &stores,
            mount_stores: None,
            terminal: Default::default(),
            trap_unknown_imports: false,
            fetch: false,
            listen: &[],
            host_files: "",
        })
    }

    /// The persistent stores `manifest`'s mounts name: what the host loads
    /// (`addStore`, `storeBlob`) before `boot`. None for a manifest that does
    /// not decode; `boot` reports why.
    #[wasm_bindgen(js_name = storesOf)]
    pub fn stores_of(manifest: &[u8]) -> Vec<String> {
        crate::manifest::decode(manifest)
            .map(|m| {
                m.mounts
                    .into_iter()
                    .filter(|m| !m.store.is_empty())
                    .map(|m| m.store)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Store `name` as the host found it: its index (`None`: there is no
    /// such store yet) and the bytes the browser still grants the site.
    /// Returns the blob ids the index names, each to be handed over with
    /// `storeBlob` before `boot`. A damaged index is an error naming the
    /// store, and the store is left untouched.
    #[wasm_bindgen(js_name = addStore)]
    pub fn add_store(
        &mut self,
        name: String,
        index: Option<Vec<u8>>,
        available_bytes: f64,
    ) -> Result<Vec<f64>, JsError> {
        if !capos_config::manifest::is_valid_store_name(&name) {
            return Err(JsError::new(&format!("{name:?} is not a store name")));
        }
        let blobs = match &index {
            Some(bytes) => crate::caps::volume::index_blobs(bytes)
                .map_err(|e| JsError::new(&format!("store {name:?}: its index is damaged: {e}")))?,
            None => Vec::new(),
        };
        self.stores.retain(|s| s.name != name);
        self.stores.push(StoreImage {
            name,
            index,
            blobs: Default::default(),
            available_bytes: available_bytes.max(0.0) as u64,
        });
        Ok(blobs.into_iter().map(|b| b as f64).collect())
    }

    /// The blob ids a store's index names.
    #[wasm_bindgen(js_name = storeBlobIds)]
    pub fn store_blob_ids(index: &[u8]) -> Result<Vec<f64>, JsError> {
        crate::caps::volume::index_blobs(index)
            .map(|ids| ids.into_iter().map(|b| b as f64).collect())
            .map_err(|e| JsError::new(&format!("the store's index is damaged: {e}")))
    }

    /// What store `store` holds under `store_path`, rebuilt from its
    /// `index` and `blobs` (bytes, in the order of `blob_ids`) alone: a
    /// `filesystems` mount `{guest, store, storePath, entries}`.
    #[wasm_bindgen(js_name = storeSnapshot)]
    pub fn store_snapshot(
        guest: &str,
        store: String,
        store_path: &str,
        index: Vec<u8>,
        blob_ids: Vec<f64>,
        blobs: Vec<js_sys::Uint8Array>,
    ) -> Result<JsValue, JsError> {
        let image = StoreImage {
            name: store,
            index: Some(index),
            blobs: blob_ids
                .into_iter()
                .zip(blobs)
                .map(|(id, bytes)| (id as u64, bytes.to_vec()))
                .collect(),
            available_bytes: 0,
        };
        let snapshot = crate::caps::volume::stored_snapshot(image, guest, store_path)
            .map_err(|e| JsError::new(&e))?;
        let serializer = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
        serde::Serialize::serialize(&snapshot, &serializer)
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// One blob of a store given to `addStore`.
    #[wasm_bindgen(js_name = storeBlob)]
    pub fn store_blob(&mut self, name: &str, id: f64, bytes: Vec<u8>) -> Result<(), JsError> {
        let image = self
            .stores
            .iter_mut()
            .find(|s| s.name == name)
            .ok_or_else(|| JsError::new(&format!("store {name:?} was not added")))?;
        image.blobs.insert(id as u64, bytes);
        Ok(())
    }

    /// Serves every ring once, at `now_ms` (`performance.now()`, read by the
    /// event loop); `true` if there was anything to do.
    pub fn poll(&mut self, now_ms: f64) -> bool {
        self.kernel.poll_at((now_ms * 1e6) as u64)
    }

    #[wasm_bindgen(js_name = isHalted)]
    pub fn is_halted(&self) -> bool {
        self.kernel.is_halted()
    }

    /// `{processes, capsHeld, parkedCalls, timers, memoryBytes}`: what the
    /// kernel holds, and the size of its wasm memory (for soak tests).
    pub fn stats(&self) -> Result<JsValue, JsError> {
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Stats {
            #[serde(flatten)]
            kernel: crate::kernel::KernelStats,
            memory_bytes: f64,
        }
        let memory = wasm_bindgen::memory().unchecked_into::<js_sys::WebAssembly::Memory>();
        let memory_bytes = memory
            .buffer()
            .unchecked_into::<js_sys::ArrayBuffer>()
            .byte_length() as f64;
        let stats = Stats {
            kernel: self.kernel.stats(),
            memory_bytes,
        };
        // `flatten` goes through a map: ask for a plain object.
        let serializer = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
        serde::Serialize::serialize(&stats, &serializer).map_err(|e| JsError::new(&e.to_string()))
    }

    #[wasm_bindgen(js_name = processExited)]
    pub fn process_exited(&mut self, pid: u32, code: i32) {
        self.kernel.process_exited(pid, code);
    }

    #[wasm_bindgen(js_name = processPanicked)]
    pub fn process_panicked(&mut self, pid: u32, message: &str) {
        self.kernel.process_panicked(pid, message);
    }

    #[wasm_bindgen(js_name = processTrapped)]
    pub fn process_trapped(&mut self, pid: u32, message: &str) {
        self.kernel.process_trapped(pid, message);
    }

    /// Text typed at the terminal or piped to `capos run`.
    #[wasm_bindgen(js_name = consoleInput)]
    pub fn console_input(&mut self, bytes: &[u8]) {
        self.kernel.terminal_input(bytes);
    }

    /// The terminal's input ended.
    #[wasm_bindgen(js_name = consoleEof)]
    pub fn console_eof(&mut self) {
        self.kernel.terminal_eof();
    }

    /// Milliseconds until the next timer, or `undefined` if none: the event
    /// loop sleeps at most this long.
    #[wasm_bindgen(js_name = nextDeadlineMs)]
    pub fn next_deadline_ms(&mut self) -> Option<f64> {
        self.kernel.next_deadline_ms()
    }

    #[wasm_bindgen(js_name = processFailed)]
    pub fn process_failed(&mut self, pid: u32, message: &str) {
        self.kernel.process_failed(pid, message);
    }

    /// What the page shows of the inspector: the graph and process views,
    /// the call trace.
    #[wasm_bindgen(js_name = setInspect)]
    pub fn set_inspect(&mut self, graph: bool, trace: bool) {
        self.kernel.set_inspect(graph, trace);
    }

    /// Shows the boot's file trees to the page (a `files` view at once and
    /// whenever they change), or stops.
    #[wasm_bindgen(js_name = watchFiles)]
    pub fn watch_files(&mut self, on: bool) {
        self.kernel.watch_files(on);
    }

    /// An edit from the page's file browser: `op` is "write" (`data` at
    /// `path`, replacing it), "mkdir", "remove" (a directory with all it
    /// holds) or "rename" (`path` to `to`), on mount `mount` of its view.
    #[wasm_bindgen(js_name = editFiles)]
    pub fn edit_files(
        &mut self,
        op: &str,
        mount: u32,
        path: String,
        to: String,
        data: Vec<u8>,
    ) -> Result<(), JsError> {
        use crate::kernel::FileEdit;
        let edit = match op {
            "write" => FileEdit::Write { mount, path, data },
            "mkdir" => FileEdit::MakeDirectory { mount, path },
            "remove" => FileEdit::Remove { mount, path },
            "rename" => FileEdit::Rename {
                mount,
                from: path,
                to,
            },
            _ => return Err(JsError::new(&format!("unknown file edit {op:?}"))),
        };
        self.kernel.edit_files(edit).map_err(|e| JsError::new(&e))
    }

    /// Commits the page's edits now (after a batch of them).
    #[wasm_bindgen(js_name = flushFiles)]
    pub fn flush_files(&mut self) {
        self.kernel.flush_files();
    }

    /// What `path` on mount `mount` holds, for the page: `[{path, kind,
    /// data, mtimeMs}]`, the entry itself first (path ""), then everything
    /// under it if it is a directory.
    #[wasm_bindgen(js_name = readFiles)]
    pub fn read_files(&mut self, mount: u32, path: &str) -> Result<js_sys::Array, JsError> {
        let copies = self
            .kernel
            .read_files(mount, path)
            .map_err(|e| JsError::new(&e))?;
        let out = js_sys::Array::new();
        for c in copies {
            let entry = js_sys::Object::new();
            let set = |k: &str, v: &JsValue| js_sys::Reflect::set(&entry, &k.into(), v);
            set("path", &c.path.into()).ok();
            set("kind", &c.kind.into()).ok();
            set("data", &js_sys::Uint8Array::from(c.data.as_slice()).into()).ok();
            set("mtimeMs", &(c.mtime_ns as f64 / 1e6).into()).ok();
            out.push(&entry);
        }
        Ok(out)
    }

    /// About ten times a second: process states, the inspector's snapshot,
    /// the traced calls.
    pub fn tick(&mut self) {
        self.kernel.tick();
    }

    /// The head of an HTTP response for exchange `id`; `headers` is
    /// name, value, name, value...
    #[wasm_bindgen(js_name = httpHead)]
    pub fn http_head(
        &mut self,
        id: u32,
        status: u16,
        status_text: String,
        url: String,
        redirected: bool,
        headers: Vec<String>,
    ) {
        let headers = headers
            .chunks_exact(2)
            .map(|pair| (pair[0].clone(), pair[1].clone()))
            .collect();
        let reply = HostReply::HttpHead {
            status,
            status_text,
            url,
            redirected,
            headers,
        };
        self.kernel.host_reply(id, reply);
    }

    /// The next chunk of exchange `id`'s body.
    #[wasm_bindgen(js_name = httpChunk)]
    pub fn http_chunk(&mut self, id: u32, bytes: Vec<u8>) {
        self.kernel.host_reply(id, HostReply::HttpChunk(bytes));
    }

    /// Exchange `id`'s body is complete.
    #[wasm_bindgen(js_name = httpEnd)]
    pub fn http_end(&mut self, id: u32) {
        self.kernel.host_reply(id, HostReply::HttpEnd);
    }

    /// A stored value (`found` false: no such key).
    #[wasm_bindgen(js_name = kvValue)]
    pub fn kv_value(&mut self, id: u32, found: bool, bytes: Vec<u8>) {
        let value = found.then_some(bytes);
        self.kernel.host_reply(id, HostReply::KvValue(value));
    }

    #[wasm_bindgen(js_name = kvDone)]
    pub fn kv_done(&mut self, id: u32) {
        self.kernel.host_reply(id, HostReply::KvDone);
    }

    #[wasm_bindgen(js_name = kvKeys)]
    pub fn kv_keys(&mut self, id: u32, keys: Vec<String>) {
        self.kernel.host_reply(id, HostReply::KvKeys(keys));
    }

    /// The bytes of host file read `id` (`HostFileRead`).
    #[wasm_bindgen(js_name = hostFileData)]
    pub fn host_file_data(&mut self, id: u32, bytes: Vec<u8>) {
        self.kernel.host_reply(id, HostReply::FileData(bytes));
    }

    /// The clipboard's text, as the page read it.
    #[wasm_bindgen(js_name = clipboardText)]
    pub fn clipboard_text(&mut self, id: u32, text: String) {
        self.kernel.host_reply(id, HostReply::ClipboardText(text));
    }

    /// Host work `id` is done (a clipboard write).
    #[wasm_bindgen(js_name = hostDone)]
    pub fn host_done(&mut self, id: u32) {
        self.kernel.host_reply(id, HostReply::Done);
    }

    /// The page drew display `id`'s last frame.
    #[wasm_bindgen(js_name = displayDrawn)]
    pub fn display_drawn(&mut self, id: u32) {
        self.kernel.host_reply(id, HostReply::DisplayDrawn);
    }

    /// The page resized (`closed` false: the size that would fill its pane)
    /// or closed display `id`.
    #[wasm_bindgen(js_name = displayEvent)]
    pub fn display_event(&mut self, id: u32, closed: bool, width: u32, height: u32) {
        let reply = HostReply::DisplayEvent {
            closed,
            width,
            height,
        };
        self.kernel.host_reply(id, reply);
    }

    /// A connection to `port` from `peer` (text for people: "preview", a
    /// host address): the exchange id its bytes travel under, or why no
    /// one takes it.
    #[wasm_bindgen(js_name = netConnect)]
    pub fn net_connect(&mut self, port: u16, peer: &str) -> Result<u32, JsError> {
        self.kernel
            .connect(port, peer)
            .map_err(|e| JsError::new(&e))
    }

    /// Bytes from connection `id`'s peer (the answer to a pull).
    #[wasm_bindgen(js_name = netData)]
    pub fn net_data(&mut self, id: u32, bytes: Vec<u8>) {
        self.kernel.host_reply(id, HostReply::NetData(bytes));
    }

    /// Connection `id`'s peer finished sending.
    #[wasm_bindgen(js_name = netEnd)]
    pub fn net_end(&mut self, id: u32) {
        self.kernel.host_reply(id, HostReply::NetEnd);
    }

    /// Connection `id`'s peer took the oldest bytes sent to it.
    #[wasm_bindgen(js_name = netSent)]
    pub fn net_sent(&mut self, id: u32) {
        self.kernel.host_reply(id, HostReply::NetSent);
    }

    /// Host work `id` failed: `kind` is denied, invalid, network, timeout,
    /// quota or other.
    #[wasm_bindgen(js_name = hostFailed)]
    pub fn host_failed(&mut self, id: u32, kind: &str, message: String) {
        let kind = HostFailure::from_name(kind);
        self.kernel
            .host_reply(id, HostReply::Failed { kind, message });
    }

    /// Every capability id any process holds. Only a test reads this, from
    /// inside the kernel Worker, to check that none reaches the page.
    #[wasm_bindgen(js_name = liveCapIds)]
    pub fn live_cap_ids(&self) -> Vec<u32> {
        self.kernel.live_cap_ids()
    }
}
