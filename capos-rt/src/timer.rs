//! `Timer` (schema/timer.capnp) over the generated client.

use crate::Error;

crate::capability!(Timer, timer);

impl Timer {
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
