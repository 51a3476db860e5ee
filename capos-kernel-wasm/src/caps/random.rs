//! RandomSource: bytes from the browser's CSPRNG.

use super::serve;
use crate::host::Host;
use crate::kernel::Kernel;
use capos_lib::{CallContext, CapError, Fault, Reply, Served};
use capos_schema::random_capnp::random_source;
use capos_schema::servers::random_source::Server;

/// Most bytes one `fill` returns.
pub const MAX_FILL: u32 = 1024;

#[derive(Debug, Default)]
pub struct RandomSource;

serve!(RandomSource, random_source);

impl<H: Host> Server<Kernel<H>> for RandomSource {
    fn fill(
        &self,
        kernel: &mut Kernel<H>,
        _call: &CallContext,
        params: random_source::fill_params::Reader<'_>,
        results: random_source::fill_results::Builder<'_>,
    ) -> Reply {
        let len = params.get_len();
        if len > MAX_FILL {
            return Err(Fault::new(
                CapError::TooLarge,
                format!("at most {MAX_FILL} bytes per call"),
            ));
        }
        kernel.host_mut().fill_random(results.init_data(len));
        Ok(Served::Done)
    }
}
