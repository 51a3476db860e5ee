//! `Timer` (schema/timer.capnp) over the generated client.

use crate::{CapRef, Error, RingTransport};
use capos_schema::clients;
use capos_schema::interfaces::timer as iface;

#[derive(Clone, Copy, Debug)]
pub struct Timer {
    client: clients::Timer<RingTransport>,
}

impl Timer {
    pub fn from_cap(cap: CapRef) -> Result<Self, Error> {
        Ok(Self {
            client: cap.client()?,
        })
    }

    pub fn cap(&self) -> CapRef {
        CapRef::of(&self.client)
    }

    pub fn open(env: &crate::Env, name: &str) -> Result<Self, Error> {
        Self::from_cap(CapRef::find(&env.capset, name, iface::INTERFACE_ID)?)
    }

    /// Blocks for at least `ns` nanoseconds.
    pub fn sleep_ns(&self, ns: u64) -> Result<(), Error> {
        let mut request = self.client.sleep_request();
        request.get().set_ns(ns);
        request.send().map(drop)
    }

    /// Nanoseconds since the Unix epoch.
    pub fn realtime_ns(&self) -> Result<u64, Error> {
        Ok(self.client.realtime_request().send()?.get()?.get_ns())
    }

    /// Monotonic nanoseconds since the kernel started.
    pub fn now_ns(&self) -> Result<u64, Error> {
        Ok(self.client.now_request().send()?.get()?.get_ns())
    }
}
