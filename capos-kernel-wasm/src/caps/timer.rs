//! Timer: the monotonic and real-time clocks, and sleeping.

use super::serve;
use crate::host::Host;
use crate::kernel::{Kernel, TimerAction};
use capos_lib::{CallContext, Reply, Served};
use capos_schema::servers::timer::Server;
use capos_schema::timer_capnp::timer;

#[derive(Debug, Default)]
pub struct Timer;

serve!(Timer, timer);

impl<H: Host> Server<Kernel<H>> for Timer {
    fn now(
        &self,
        kernel: &mut Kernel<H>,
        _call: &CallContext,
        _params: timer::now_params::Reader<'_>,
        mut results: timer::now_results::Builder<'_>,
    ) -> Reply {
        results.set_ns(kernel.host_mut().now_ns());
        Ok(Served::Done)
    }

    fn sleep(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: timer::sleep_params::Reader<'_>,
        _results: timer::sleep_results::Builder<'_>,
    ) -> Reply {
        let finish = TimerAction::Finish {
            pid: call.caller,
            user_data: call.user_data,
        };
        kernel.set_timer(params.get_ns(), finish);
        Ok(Served::Pending)
    }

    fn realtime(
        &self,
        kernel: &mut Kernel<H>,
        _call: &CallContext,
        _params: timer::realtime_params::Reader<'_>,
        mut results: timer::realtime_results::Builder<'_>,
    ) -> Reply {
        results.set_ns(kernel.host_mut().realtime_ns());
        Ok(Served::Done)
    }
}
