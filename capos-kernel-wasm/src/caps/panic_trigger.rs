use super::{bad_params, read_params, unknown_method};
use crate::host::Host;
use crate::kernel::Kernel;
use capos_lib::{CallContext, CapObject, Completion};
use capos_schema::debug_capnp::kernel_panic_trigger;
use capos_schema::interfaces::kernel_panic_trigger as iface;

/// Test-only: panics the kernel. Granted only by manifests that ask for
/// `kernelPanicTrigger`, to prove a kernel panic halts everything visibly.
#[derive(Debug, Default)]
pub struct KernelPanicTrigger;

impl<H: Host> CapObject<Kernel<H>> for KernelPanicTrigger {
    fn interface_id(&self) -> u64 {
        iface::INTERFACE_ID
    }

    fn interface_name(&self) -> &'static str {
        iface::NAME
    }

    fn call(&self, _kernel: &mut Kernel<H>, call: &CallContext<'_>) -> Completion {
        if call.method != iface::method::TRIGGER {
            return unknown_method(iface::NAME, call.method);
        }
        let message = match read_params(call.params) {
            Ok(m) => m,
            Err(c) => return c,
        };
        let reason = message
            .get_root::<kernel_panic_trigger::trigger_params::Reader>()
            .and_then(|p| p.get_reason())
            .map_err(bad_params)
            .and_then(|r| r.to_str().map(str::to_string).map_err(bad_params));
        match reason {
            Ok(reason) => panic!(
                "KernelPanicTrigger invoked by pid {}: {reason}",
                call.caller
            ),
            Err(c) => c,
        }
    }
}
