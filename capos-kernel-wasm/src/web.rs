//! The kernel's browser edge: rings in SharedArrayBuffers and the
//! JavaScript host (web/kernel/process-host.js) that owns the Worker objects.
//! Exported to the kernel Worker as class `Kernel`.

use crate::host::Host;
use crate::kernel::Kernel;
use crate::view::UiEvent;
use capos_config::ring::{RING_SIZE, RingMemory};
use js_sys::{Atomics, Int32Array, SharedArrayBuffer, Uint8Array};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

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
        ring: &SharedArrayBuffer,
        capset: &[u8],
        argv: &[u8],
    );

    #[wasm_bindgen(method, js_name = stopProcess)]
    fn stop_process(this: &JsHost, pid: u32);

    #[wasm_bindgen(method)]
    fn emit(this: &JsHost, event: JsValue);

    #[wasm_bindgen(method, js_name = kernelPanic)]
    fn kernel_panic(this: &JsHost, message: &str);

    #[wasm_bindgen(method, js_name = nowMs)]
    fn now_ms(this: &JsHost) -> f64;
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
// bounds by construction; an `Atomics` failure would be a kernel bug, and the
// kernel's contract for bugs is to panic (reported, then halted).
impl RingMemory for SabRing {
    fn load(&self, offset: usize) -> u32 {
        Atomics::load(&self.words, (offset / 4) as u32).expect("in-bounds ring word") as u32
    }
    fn store(&self, offset: usize, value: u32) {
        Atomics::store(&self.words, (offset / 4) as u32, value as i32)
            .expect("in-bounds ring word");
    }
    fn fetch_add(&self, offset: usize, value: u32) -> u32 {
        Atomics::add(&self.words, (offset / 4) as u32, value as i32).expect("in-bounds ring word")
            as u32
    }
    fn read(&self, offset: usize, out: &mut [u8]) {
        self.bytes
            .subarray(offset as u32, (offset + out.len()) as u32)
            .copy_to(out);
    }
    fn write(&self, offset: usize, data: &[u8]) {
        self.bytes
            .subarray(offset as u32, (offset + data.len()) as u32)
            .copy_from(data);
    }
    fn notify(&self, offset: usize) {
        Atomics::notify(&self.words, (offset / 4) as u32).expect("in-bounds ring word");
    }
}

pub struct WebHost {
    js: JsHost,
}

impl Host for WebHost {
    type Ring = SabRing;

    fn now_ns(&mut self) -> u64 {
        (self.js.now_ms() * 1e6) as u64
    }

    fn create_ring(&mut self) -> SabRing {
        SabRing::new()
    }

    fn start_process(
        &mut self,
        pid: u32,
        name: &str,
        binary: &[u8],
        ring: &SabRing,
        capset: &[u8],
        argv: &[u8],
    ) {
        self.js
            .start_process(pid, name, binary, &ring.sab, capset, argv);
    }

    fn stop_process(&mut self, pid: u32) {
        self.js.stop_process(pid);
    }

    fn emit(&mut self, event: UiEvent) {
        let serializer = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
        match serde::Serialize::serialize(&event, &serializer) {
            Ok(value) => self.js.emit(value),
            Err(e) => panic!("view model did not serialize: {e}"),
        }
    }
}

/// The kernel, as the kernel Worker's JavaScript sees it.
#[wasm_bindgen(js_name = Kernel)]
pub struct WasmKernel {
    kernel: Kernel<WebHost>,
}

#[wasm_bindgen(js_class = Kernel)]
impl WasmKernel {
    /// A kernel whose Workers and view models go through `host`. A panic
    /// anywhere in the kernel is reported through `host.kernelPanic`.
    #[wasm_bindgen(constructor)]
    pub fn new(host: JsHost) -> WasmKernel {
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
            kernel: Kernel::new(WebHost { js: host }),
        }
    }

    /// Boots a binary manifest; returns init's pid. A bad manifest is
    /// reported to the UI (`bootError`) and thrown.
    pub fn boot(&mut self, manifest: &[u8]) -> Result<u32, JsError> {
        self.kernel.boot(manifest).map_err(|e| JsError::new(&e))
    }

    /// Serves every ring once; `true` if there was anything to do.
    pub fn poll(&mut self) -> bool {
        self.kernel.poll()
    }

    #[wasm_bindgen(js_name = isHalted)]
    pub fn is_halted(&self) -> bool {
        self.kernel.is_halted()
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

    #[wasm_bindgen(js_name = processFailed)]
    pub fn process_failed(&mut self, pid: u32, message: &str) {
        self.kernel.process_failed(pid, message);
    }
}
