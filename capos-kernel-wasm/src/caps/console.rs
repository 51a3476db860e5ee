use super::{bad_params, done, read_params, unknown_method};
use crate::host::Host;
use crate::kernel::Kernel;
use crate::view::UiEvent;
use capos_lib::{CallContext, CapObject, Completion};
use capos_schema::console_capnp::console;
use capos_schema::interfaces::console as iface;

/// Text output to the terminal.
#[derive(Debug, Default)]
pub struct Console;

impl<H: Host> CapObject<Kernel<H>> for Console {
    fn interface_id(&self) -> u64 {
        iface::INTERFACE_ID
    }

    fn interface_name(&self) -> &'static str {
        iface::NAME
    }

    fn call(&self, kernel: &mut Kernel<H>, call: &CallContext<'_>) -> Completion {
        match call.method {
            iface::method::WRITE => {
                let message = match read_params(call.params) {
                    Ok(m) => m,
                    Err(c) => return c,
                };
                let text = match message
                    .get_root::<console::write_params::Reader>()
                    .and_then(|p| p.get_text())
                {
                    Ok(t) => t,
                    Err(e) => return bad_params(e),
                };
                let text = match text.to_str() {
                    Ok(t) => t,
                    Err(_) => return bad_params("Console.write text is not valid UTF-8"),
                };
                kernel.emit(UiEvent::Console {
                    pid: call.caller,
                    text: text.to_string(),
                });
                done()
            }
            m => unknown_method(iface::NAME, m),
        }
    }
}
