//! Echo: answers with what it is sent, the null call of the benchmarks.

use super::serve;
use crate::host::Host;
use crate::kernel::Kernel;
use capos_lib::{CallContext, Reply, Served};
use capos_schema::bench_capnp::echo;
use capos_schema::servers::echo::Server;

#[derive(Debug, Default)]
pub struct Echo;

serve!(Echo, echo);

impl<H: Host> Server<Kernel<H>> for Echo {
    fn echo(
        &self,
        _kernel: &mut Kernel<H>,
        _call: &CallContext,
        params: echo::echo_params::Reader<'_>,
        mut results: echo::echo_results::Builder<'_>,
    ) -> Reply {
        results.set_value(params.get_value());
        Ok(Served::Done)
    }
}
