//! Test-only: panics the kernel. Granted only by manifests that ask for
//! `kernelPanicTrigger`, to prove a kernel panic halts everything visibly.

use super::{serve, text};
use crate::host::Host;
use crate::kernel::Kernel;
use capos_lib::{CallContext, Reply};
use capos_schema::debug_capnp::kernel_panic_trigger;
use capos_schema::servers::kernel_panic_trigger::Server;

#[derive(Debug, Default)]
pub struct KernelPanicTrigger;

serve!(KernelPanicTrigger, kernel_panic_trigger);

impl<H: Host> Server<Kernel<H>> for KernelPanicTrigger {
    fn trigger(
        &self,
        _kernel: &mut Kernel<H>,
        call: &CallContext,
        params: kernel_panic_trigger::trigger_params::Reader<'_>,
        _results: kernel_panic_trigger::trigger_results::Builder<'_>,
    ) -> Reply {
        let reason = text(params.get_reason())?;
        panic!(
            "KernelPanicTrigger invoked by pid {}: {reason}",
            call.caller
        )
    }
}
