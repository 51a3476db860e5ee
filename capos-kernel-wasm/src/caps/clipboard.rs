//! Clipboard: the page's clipboard, read and written by the page on the
//! kernel's behalf (only the main thread may touch it). The page may refuse
//! (no focus, no permission): the caller then gets `Denied` with the page's
//! reason.

use super::{Inspect, encode, results_builder, serve, text};
use crate::host::{Host, HostClient, HostFailure, HostReply, HostRequest};
use crate::kernel::Kernel;
use capos_config::ring::SLOT_DATA_SIZE;
use capos_lib::{CallContext, CapError, Completion, Fault, Reply, Served};
use capos_schema::clipboard_capnp::clipboard;
use capos_schema::servers::clipboard::Server;
use std::cell::RefCell;
use std::rc::Rc;

/// Most bytes one `read` returns.
pub const MAX_READ: u32 = SLOT_DATA_SIZE - 128;

/// What the last read from offset 0 got, for the reads further into it.
type Kept = Rc<RefCell<Rc<Vec<u8>>>>;

#[derive(Default)]
pub struct Clipboard {
    last_read: Kept,
}

impl Inspect for Clipboard {}
serve!(Clipboard, clipboard, inspect);

fn read_completion(text: &[u8], offset: u64, max: u32) -> Completion {
    let mut message = results_builder();
    {
        let mut root = message.init_root::<clipboard::read_results::Builder<'_>>();
        let start = offset.min(text.len() as u64) as usize;
        let end = start + (text.len() - start).min(max as usize);
        root.set_data(&text[start..end]);
        root.set_size(text.len() as u64);
    }
    encode(&message)
}

struct Pending {
    pid: u32,
    user_data: u64,
    /// A read's (offset, max) and where to keep what it got; `None`: a write.
    read: Option<(u64, u32, Kept)>,
}

impl<H: Host> HostClient<H> for Pending {
    fn on_reply(&self, kernel: &mut Kernel<H>, _id: u32, reply: HostReply) {
        let completion = match (reply, &self.read) {
            (HostReply::ClipboardText(text), Some((offset, max, keep))) => {
                let bytes = Rc::new(text.into_bytes());
                *keep.borrow_mut() = bytes.clone();
                read_completion(&bytes, *offset, *max)
            }
            (HostReply::Done, None) => {
                let mut message = results_builder();
                message.init_root::<clipboard::write_results::Builder<'_>>();
                encode(&message)
            }
            (HostReply::Failed { kind, message }, _) => {
                let error = match kind {
                    HostFailure::Denied => CapError::Denied,
                    HostFailure::Invalid => CapError::BadParams,
                    _ => CapError::Internal,
                };
                Fault::new(error, message).into()
            }
            (other, _) => Fault::new(
                CapError::Internal,
                format!("the page answered a clipboard request with {other:?}"),
            )
            .into(),
        };
        kernel.finish(self.pid, self.user_data, completion);
    }
}

impl<H: Host> Server<Kernel<H>> for Clipboard {
    fn read(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: clipboard::read_params::Reader<'_>,
        _results: clipboard::read_results::Builder<'_>,
    ) -> Reply {
        let offset = params.get_offset();
        let max = params.get_max().min(MAX_READ);
        if offset > 0 {
            let kept = self.last_read.borrow().clone();
            kernel.finish(
                call.caller,
                call.user_data,
                read_completion(&kept, offset, max),
            );
            return Ok(Served::Pending);
        }
        let pending = Pending {
            pid: call.caller,
            user_data: call.user_data,
            read: Some((offset, max, self.last_read.clone())),
        };
        kernel.host_request(Rc::new(pending), HostRequest::ClipboardRead);
        Ok(Served::Pending)
    }

    fn write(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: clipboard::write_params::Reader<'_>,
        _results: clipboard::write_results::Builder<'_>,
    ) -> Reply {
        let text = text(params.get_text())?;
        let pending = Pending {
            pid: call.caller,
            user_data: call.user_data,
            read: None,
        };
        kernel.host_request(
            Rc::new(pending),
            HostRequest::ClipboardWrite { text: &text },
        );
        Ok(Served::Pending)
    }
}
