use super::{bad_params, done, encode, fail, outcome, read_params, set_cap_ref, unknown_method};
use crate::host::Host;
use crate::kernel::{CapEntry, Kernel};
use crate::view::{Stream, UiEvent};
use capos_lib::{CallContext, CapError, CapObject, Completion};
use capos_schema::console_capnp::console;
use capos_schema::interfaces::console as iface;
use std::cell::Cell;
use std::rc::Rc;

/// Longest prefix an attenuated Console may carry.
pub const MAX_PREFIX: usize = 64;

/// Most bytes one `read` returns (a ring slot less framing).
pub const MAX_READ: u32 = capos_config::ring::SLOT_DATA_SIZE - 128;

/// The results of `Console.read`.
pub fn read_results(data: &[u8], eof: bool) -> Completion {
    let mut results = super::results_builder();
    let mut root = results.init_root::<console::read_results::Builder>();
    root.set_data(data);
    root.set_eof(eof);
    encode(&results)
}

/// The results of `Console.waitReadable`.
pub fn readable_results(ready: bool) -> Completion {
    let mut results = super::results_builder();
    results
        .init_root::<console::wait_readable_results::Builder>()
        .set_ready(ready);
    encode(&results)
}

/// The terminal: output (to one stream, optionally attenuated to prefix
/// every line) and the shared input stream.
#[derive(Debug)]
pub struct Console {
    stream: Stream,
    prefix: String,
    /// Whether the next character starts a line (where the prefix goes).
    at_line_start: Cell<bool>,
}

impl Console {
    pub fn new(stream: Stream) -> Self {
        Self::with_prefix(stream, String::new())
    }

    fn with_prefix(stream: Stream, prefix: String) -> Self {
        Self {
            stream,
            prefix,
            at_line_start: Cell::new(true),
        }
    }

    fn render(&self, text: &str) -> String {
        if self.prefix.is_empty() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len() + self.prefix.len());
        for c in text.chars() {
            if self.at_line_start.get() {
                out.push_str(&self.prefix);
            }
            out.push(c);
            self.at_line_start.set(c == '\n');
        }
        out
    }

    fn write<H: Host>(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext<'_>,
    ) -> Result<Completion, Completion> {
        let message = read_params(call.params)?;
        let params = message
            .get_root::<console::write_params::Reader>()
            .map_err(bad_params)?;
        let text = params
            .get_text()
            .map_err(bad_params)?
            .to_str()
            .map_err(|_| bad_params("Console.write text is not valid UTF-8"))?;
        let text = self.render(text);
        kernel.emit(UiEvent::Console {
            pid: call.caller,
            stream: self.stream,
            text,
        });
        Ok(done())
    }

    fn attenuate<H: Host>(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext<'_>,
    ) -> Result<Completion, Completion> {
        let message = read_params(call.params)?;
        let prefix = message
            .get_root::<console::with_prefix_params::Reader>()
            .and_then(|p| p.get_prefix())
            .map_err(bad_params)?
            .to_str()
            .map_err(|_| bad_params("prefix is not valid UTF-8"))?;
        if prefix.len() > MAX_PREFIX || prefix.chars().any(char::is_control) {
            return Err(fail(
                CapError::BadParams,
                format!("prefix must be at most {MAX_PREFIX} bytes without control characters"),
            ));
        }
        // Attenuation composes: the new Console keeps this one's prefix too.
        let console = Console::with_prefix(self.stream, format!("{}{prefix}", self.prefix));
        let granted = kernel.insert_cap(
            call.caller,
            CapEntry {
                object: Rc::new(console),
                badge: call.badge,
            },
        )?;
        let mut results = super::results_builder();
        let root = results.init_root::<console::with_prefix_results::Builder>();
        set_cap_ref(root.init_console(), granted);
        Ok(encode(&results))
    }
}

impl<H: Host> CapObject<Kernel<H>> for Console {
    fn interface_id(&self) -> u64 {
        iface::INTERFACE_ID
    }

    fn interface_name(&self) -> &'static str {
        iface::NAME
    }

    fn call(&self, kernel: &mut Kernel<H>, call: &CallContext<'_>) -> Completion {
        match call.method {
            iface::method::WRITE => outcome(self.write(kernel, call)),
            iface::method::WITH_PREFIX => outcome(self.attenuate(kernel, call)),
            iface::method::READ => outcome(read_params(call.params).and_then(|m| {
                let max = m
                    .get_root::<console::read_params::Reader>()
                    .map_err(bad_params)?
                    .get_max();
                Ok(kernel.read_input(call.caller, call.user_data, max.min(MAX_READ)))
            })),
            iface::method::WAIT_READABLE => outcome(read_params(call.params).and_then(|m| {
                let timeout = m
                    .get_root::<console::wait_readable_params::Reader>()
                    .map_err(bad_params)?
                    .get_timeout_ns();
                Ok(kernel.watch_input(call.caller, call.user_data, timeout))
            })),
            m => unknown_method(iface::NAME, m),
        }
    }
}
