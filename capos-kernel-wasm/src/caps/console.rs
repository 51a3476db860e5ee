//! Console: output to the terminal (one stream, optionally attenuated to
//! prefix every line) and the terminal's input, which every Console shares
//! through the [`TerminalInput`] service.

use super::{encode, results_builder, serve, set_cap_ref, text};
use crate::host::Host;
use crate::kernel::{CapEntry, Kernel, TimerAction};
use crate::view::{Stream, UiEvent};
use capos_lib::{CallContext, CapError, Completion, Fault, Reply, Served, Service, TerminalEvent};
use capos_schema::console_capnp::console;
use capos_schema::servers::console::Server;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

/// Longest prefix an attenuated Console may carry.
pub const MAX_PREFIX: usize = 64;

/// Most bytes one `read` returns (a ring slot less framing).
pub const MAX_READ: u32 = capos_config::ring::SLOT_DATA_SIZE - 128;

/// A parked call: who made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Caller {
    pid: u32,
    user_data: u64,
}

/// What was typed (or piped) and not yet read, and who waits for it.
#[derive(Debug, Default)]
struct InputState {
    buffered: VecDeque<u8>,
    ended: bool,
    /// Blocked `read` calls, with the most bytes each takes.
    readers: VecDeque<(Caller, u32)>,
    /// Blocked `waitReadable` calls, with their timeout's timer.
    watchers: Vec<(Caller, Option<u64>)>,
}

/// The terminal's input stream, shared by every Console of one boot.
#[derive(Debug, Default)]
pub struct TerminalInput {
    state: RefCell<InputState>,
    /// Whether the input is typed at a terminal (not piped).
    is_terminal: bool,
}

fn read_results(data: &[u8], eof: bool) -> Completion {
    let mut results = results_builder();
    let mut root = results.init_root::<console::read_results::Builder>();
    root.set_data(data);
    root.set_eof(eof);
    encode(&results)
}

fn readable_results(ready: bool) -> Completion {
    let mut results = results_builder();
    results
        .init_root::<console::wait_readable_results::Builder>()
        .set_ready(ready);
    encode(&results)
}

impl TerminalInput {
    pub fn new(is_terminal: bool) -> Self {
        Self {
            state: RefCell::default(),
            is_terminal,
        }
    }

    /// Hands buffered input to blocked readers, in order.
    fn serve<H: Host>(&self, kernel: &mut Kernel<H>) {
        let mut finished = Vec::new();
        {
            let mut s = self.state.borrow_mut();
            if s.buffered.is_empty() && !s.ended {
                return;
            }
            for (caller, timer) in std::mem::take(&mut s.watchers) {
                finished.push((caller, timer, readable_results(true)));
            }
            while let Some(&(caller, max)) = s.readers.front() {
                if s.buffered.is_empty() && !s.ended {
                    break;
                }
                s.readers.pop_front();
                if !kernel.is_alive(caller.pid) {
                    continue; // Its reader is gone; leave the input for the next.
                }
                let n = s.buffered.len().min(max as usize);
                let data: Vec<u8> = s.buffered.drain(..n).collect();
                let eof = data.is_empty();
                finished.push((caller, None, read_results(&data, eof)));
            }
        }
        for (caller, timer, completion) in finished {
            if let Some(id) = timer {
                kernel.cancel_timer(id);
            }
            kernel.finish(caller.pid, caller.user_data, completion);
        }
    }
}

impl<H: Host> Service<Kernel<H>> for TerminalInput {
    fn on_exit(&self, kernel: &mut Kernel<H>, pid: u32, _code: i32, _reason: &str) {
        let timers: Vec<u64> = {
            let mut s = self.state.borrow_mut();
            s.readers.retain(|r| r.0.pid != pid);
            let (gone, kept) = std::mem::take(&mut s.watchers)
                .into_iter()
                .partition(|w| w.0.pid == pid);
            s.watchers = kept;
            gone.into_iter()
                .filter_map(|(_, timer)| timer)
                .collect::<Vec<_>>()
        };
        for id in timers {
            kernel.cancel_timer(id);
        }
    }

    fn on_timer(&self, kernel: &mut Kernel<H>, timer: u64) {
        // A watcher's timeout: its `waitReadable` gives up.
        let expired = {
            let mut s = self.state.borrow_mut();
            let at = s.watchers.iter().position(|w| w.1 == Some(timer));
            at.map(|i| s.watchers.remove(i).0)
        };
        if let Some(caller) = expired {
            kernel.finish(caller.pid, caller.user_data, readable_results(false));
        }
    }

    fn on_terminal(&self, kernel: &mut Kernel<H>, input: TerminalEvent<'_>) {
        {
            let mut s = self.state.borrow_mut();
            if s.ended {
                return;
            }
            match input {
                TerminalEvent::Bytes(bytes) => s.buffered.extend(bytes),
                TerminalEvent::End => s.ended = true,
            }
        }
        self.serve(kernel);
    }
}

pub struct Console {
    stream: Stream,
    /// Whether `stream` reaches a terminal.
    output_is_terminal: bool,
    prefix: String,
    /// Whether the next byte starts a line (where the prefix goes).
    at_line_start: Cell<bool>,
    input: Rc<TerminalInput>,
}

impl Console {
    pub fn new(stream: Stream, output_is_terminal: bool, input: Rc<TerminalInput>) -> Self {
        Self {
            stream,
            output_is_terminal,
            prefix: String::new(),
            at_line_start: Cell::new(true),
            input,
        }
    }

    /// `data` as this Console writes it: the bytes unchanged, with the
    /// prefix (if any) before every line.
    fn render(&self, data: &[u8]) -> Vec<u8> {
        if self.prefix.is_empty() {
            return data.to_vec();
        }
        let mut out = Vec::with_capacity(data.len() + self.prefix.len());
        for &byte in data {
            if self.at_line_start.get() {
                out.extend_from_slice(self.prefix.as_bytes());
            }
            out.push(byte);
            self.at_line_start.set(byte == b'\n');
        }
        out
    }
}

serve!(Console, console, inspect);

impl super::Inspect for Console {
    fn describe(&self) -> Option<String> {
        let stream = match self.stream {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        };
        Some(if self.prefix.is_empty() {
            stream.to_string()
        } else {
            format!("{stream}, prefix {:?}", self.prefix)
        })
    }
}

impl<H: Host> Server<Kernel<H>> for Console {
    fn write(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: console::write_params::Reader<'_>,
        _results: console::write_results::Builder<'_>,
    ) -> Reply {
        let data = self.render(params.get_data()?);
        kernel.emit(UiEvent::Console {
            pid: call.caller,
            stream: self.stream,
            data,
        });
        Ok(Served::Done)
    }

    fn with_prefix(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: console::with_prefix_params::Reader<'_>,
        results: console::with_prefix_results::Builder<'_>,
    ) -> Reply {
        let prefix = text(params.get_prefix())?;
        if prefix.len() > MAX_PREFIX || prefix.chars().any(char::is_control) {
            return Err(Fault::new(
                CapError::BadParams,
                format!("prefix must be at most {MAX_PREFIX} bytes without control characters"),
            ));
        }
        // Attenuation composes: the new Console keeps this one's prefix too.
        let console = Console {
            stream: self.stream,
            output_is_terminal: self.output_is_terminal,
            prefix: format!("{}{prefix}", self.prefix),
            at_line_start: Cell::new(true),
            input: self.input.clone(),
        };
        let granted = kernel.insert_cap(
            call.caller,
            CapEntry {
                object: Rc::new(console),
                badge: call.badge,
            },
        )?;
        set_cap_ref(results.init_console(), granted);
        Ok(Served::Done)
    }

    fn read(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: console::read_params::Reader<'_>,
        _results: console::read_results::Builder<'_>,
    ) -> Reply {
        let max = params.get_max().clamp(1, MAX_READ);
        let caller = Caller {
            pid: call.caller,
            user_data: call.user_data,
        };
        self.input
            .state
            .borrow_mut()
            .readers
            .push_back((caller, max));
        // Input already buffered finishes it at once (the kernel posts a
        // call finished while it is being served as soon as it parks).
        self.input.serve(kernel);
        Ok(Served::Pending)
    }

    fn wait_readable(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: console::wait_readable_params::Reader<'_>,
        mut results: console::wait_readable_results::Builder<'_>,
    ) -> Reply {
        {
            let s = self.input.state.borrow();
            if !s.buffered.is_empty() || s.ended {
                results.set_ready(true);
                return Ok(Served::Done);
            }
        }
        let timeout = params.get_timeout_ns();
        let timer = (timeout != u64::MAX).then(|| {
            let service = self.input.clone();
            kernel.set_timer(timeout, TimerAction::Notify { service })
        });
        let caller = Caller {
            pid: call.caller,
            user_data: call.user_data,
        };
        self.input.state.borrow_mut().watchers.push((caller, timer));
        Ok(Served::Pending)
    }

    fn is_terminal(
        &self,
        _kernel: &mut Kernel<H>,
        _call: &CallContext,
        _params: console::is_terminal_params::Reader<'_>,
        mut results: console::is_terminal_results::Builder<'_>,
    ) -> Reply {
        results.set_input(self.input.is_terminal);
        results.set_output(self.output_is_terminal);
        Ok(Served::Done)
    }
}
