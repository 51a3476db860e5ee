use super::{bad_params, encode, outcome, read_params, unknown_method};
use crate::host::Host;
use crate::kernel::Kernel;
use capos_lib::{CallContext, CapObject, Completion};
use capos_schema::bench_capnp::echo;
use capos_schema::interfaces::echo as iface;

/// Answers with what it is sent: the null call of the benchmarks.
#[derive(Debug, Default)]
pub struct Echo;

impl<H: Host> CapObject<Kernel<H>> for Echo {
    fn interface_id(&self) -> u64 {
        iface::INTERFACE_ID
    }

    fn interface_name(&self) -> &'static str {
        iface::NAME
    }

    fn call(&self, _kernel: &mut Kernel<H>, call: &CallContext<'_>) -> Completion {
        if call.method != iface::method::ECHO {
            return unknown_method(iface::NAME, call.method);
        }
        outcome(read_params(call.params).and_then(|message| {
            let value = message
                .get_root::<echo::echo_params::Reader>()
                .map_err(bad_params)?
                .get_value();
            let mut results = super::results_builder();
            results
                .init_root::<echo::echo_results::Builder>()
                .set_value(value);
            Ok(encode(&results))
        }))
    }
}
