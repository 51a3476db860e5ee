//! Typed client of `Timer` (schema/timer.capnp).

use crate::{CapRef, Error};
use capos_schema::interfaces::timer as iface;

#[derive(Clone, Copy, Debug)]
pub struct Timer {
    cap: CapRef,
}

impl Timer {
    pub fn from_cap(cap: CapRef) -> Result<Self, Error> {
        crate::expect_interface(cap, iface::INTERFACE_ID, iface::NAME)?;
        Ok(Self { cap })
    }

    pub fn cap(&self) -> CapRef {
        self.cap
    }

    pub fn open(env: &crate::Env, name: &str) -> Result<Self, Error> {
        Self::from_cap(CapRef::find(&env.capset, name, iface::INTERFACE_ID)?)
    }

    /// Blocks for at least `ns` nanoseconds.
    pub fn sleep_ns(&self, ns: u64) -> Result<(), Error> {
        use capos_schema::timer_capnp::timer;
        let mut m = crate::message::builder();
        m.init_root::<timer::sleep_params::Builder>().set_ns(ns);
        crate::call(self.cap, iface::method::SLEEP, &crate::message::bytes(&m)).map(drop)
    }

    /// Nanoseconds since the Unix epoch.
    pub fn realtime_ns(&self) -> Result<u64, Error> {
        use capos_schema::timer_capnp::timer;
        let mut m = crate::message::builder();
        m.init_root::<timer::realtime_params::Builder>();
        let out = crate::call(
            self.cap,
            iface::method::REALTIME,
            &crate::message::bytes(&m),
        )?;
        let r = crate::message::read(&out)?;
        Ok(r.get_root::<timer::realtime_results::Reader>()?.get_ns())
    }

    /// Monotonic nanoseconds since the kernel started.
    pub fn now_ns(&self) -> Result<u64, Error> {
        use capos_schema::timer_capnp::timer;
        let mut m = crate::message::builder();
        m.init_root::<timer::now_params::Builder>();
        let out = crate::call(self.cap, iface::method::NOW, &crate::message::bytes(&m))?;
        let r = crate::message::read(&out)?;
        Ok(r.get_root::<timer::now_results::Reader>()?.get_ns())
    }
}
