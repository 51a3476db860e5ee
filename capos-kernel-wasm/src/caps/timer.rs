use super::{bad_params, encode, outcome, read_params, unknown_method};
use crate::host::Host;
use crate::kernel::Kernel;
use capos_lib::{CallContext, CapObject, Completion};
use capos_schema::interfaces::timer as iface;
use capos_schema::timer_capnp::timer;

/// The monotonic clock.
#[derive(Debug, Default)]
pub struct Timer;

impl<H: Host> CapObject<Kernel<H>> for Timer {
    fn interface_id(&self) -> u64 {
        iface::INTERFACE_ID
    }

    fn interface_name(&self) -> &'static str {
        iface::NAME
    }

    fn call(&self, kernel: &mut Kernel<H>, call: &CallContext<'_>) -> Completion {
        match call.method {
            iface::method::NOW => {
                let mut results = super::results_builder();
                results
                    .init_root::<timer::now_results::Builder>()
                    .set_ns(kernel.host_mut().now_ns());
                encode(&results)
            }
            iface::method::SLEEP => outcome(read_params(call.params).and_then(|m| {
                let ns = m
                    .get_root::<timer::sleep_params::Reader>()
                    .map_err(bad_params)?
                    .get_ns();
                kernel.sleep(call.caller, call.user_data, ns);
                Ok(Completion::Pending)
            })),
            iface::method::REALTIME => {
                let mut results = super::results_builder();
                results
                    .init_root::<timer::realtime_results::Builder>()
                    .set_ns(kernel.host_mut().realtime_ns());
                encode(&results)
            }
            m => unknown_method(iface::NAME, m),
        }
    }
}
