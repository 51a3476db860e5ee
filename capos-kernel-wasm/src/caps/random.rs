use super::{bad_params, encode, fail, outcome, read_params, unknown_method};
use crate::host::Host;
use crate::kernel::Kernel;
use capos_lib::{CallContext, CapError, CapObject, Completion};
use capos_schema::interfaces::random_source as iface;
use capos_schema::random_capnp::random_source;

/// Most bytes one `fill` returns.
pub const MAX_FILL: u32 = 1024;

/// Random bytes from the browser's CSPRNG.
#[derive(Debug, Default)]
pub struct RandomSource;

impl<H: Host> CapObject<Kernel<H>> for RandomSource {
    fn interface_id(&self) -> u64 {
        iface::INTERFACE_ID
    }

    fn interface_name(&self) -> &'static str {
        iface::NAME
    }

    fn call(&self, kernel: &mut Kernel<H>, call: &CallContext<'_>) -> Completion {
        if call.method != iface::method::FILL {
            return unknown_method(iface::NAME, call.method);
        }
        outcome(read_params(call.params).and_then(|m| {
            let len = m
                .get_root::<random_source::fill_params::Reader>()
                .map_err(bad_params)?
                .get_len();
            if len > MAX_FILL {
                return Err(fail(
                    CapError::TooLarge,
                    format!("at most {MAX_FILL} bytes per call"),
                ));
            }
            let mut bytes = vec![0u8; len as usize];
            kernel.host_mut().fill_random(&mut bytes);
            let mut results = super::results_builder();
            results
                .init_root::<random_source::fill_results::Builder>()
                .set_data(&bytes);
            Ok(encode(&results))
        }))
    }
}
