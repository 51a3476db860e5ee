//! `Console` (schema/console.capnp): writes of bytes, exactly as given,
//! over the generated client.

use crate::ring::results_ok;
use crate::{Error, RingRequest, RingTransport};
use capos_schema::clients;
use capos_schema::console_capnp::console;
use capos_schema::rpc::Params;

crate::capability!(
    /// Output to the terminal (bytes, as written), and its input.
    Console, console
);

impl Console {
    /// The generated client, for calls this wrapper does not cover.
    pub fn client(&self) -> clients::Console<RingTransport> {
        self.client
    }

    /// An attenuated Console that starts every line with `prefix`.
    pub fn with_prefix(&self, prefix: &str) -> Result<Self, Error> {
        let mut request = self.client.with_prefix_request();
        request.get().set_prefix(prefix);
        let response = request.send()?;
        Self::from_cap(crate::message::cap_ref(response.get()?.get_console()?))
    }

    /// The params message of `Console.write`, for calls made without a
    /// client (on an id that may name nothing).
    pub fn write_params(data: &[u8]) -> Vec<u8> {
        let mut params = Params::<console::write_params::Owned>::new();
        params.get().set_data(data);
        params.to_bytes()
    }

    /// Writes `text`, split into as many calls as the ring's slot size needs.
    pub fn write(&self, text: &str) -> Result<(), Error> {
        self.write_bytes(text.as_bytes())
    }

    /// Writes `data` byte for byte, in as many calls as the slot size needs.
    pub fn write_bytes(&self, data: &[u8]) -> Result<(), Error> {
        for chunk in data.chunks(WRITE_CHUNK) {
            let mut request = self.client.write_request();
            request.get().set_data(chunk);
            request.send()?;
        }
        Ok(())
    }

    /// The first failure of this console's deferred writes since the last
    /// time this was asked.
    pub fn take_write_error(&self) -> Option<Error> {
        crate::take_deferred_error(self.cap())
    }

    /// Queues a write of `data`, byte for byte, without waiting for it (see
    /// `call_deferred`); order with later calls is kept. Data larger than a
    /// slot is split; a failure is reported by
    /// [`take_write_error`](Self::take_write_error).
    pub fn write_deferred(&self, data: &[u8]) -> Result<(), Error> {
        for chunk in data.chunks(WRITE_CHUNK) {
            let mut request = self.client.write_request();
            request.get().set_data(chunk);
            request.send_deferred(results_ok)?;
        }
        Ok(())
    }

    /// Up to `max` bytes of terminal input; blocks until there are some.
    /// Returns no bytes at end of input.
    pub fn read(&self, max: u32) -> Result<Vec<u8>, Error> {
        let mut request = self.client.read_request();
        request.get().set_max(max);
        Ok(request.send()?.get()?.get_data()?.to_vec())
    }

    /// Whether input is readable within `timeout_ns` (`u64::MAX`: wait).
    pub fn wait_readable(&self, timeout_ns: u64) -> Result<bool, Error> {
        let mut request = self.client.wait_readable_request();
        request.get().set_timeout_ns(timeout_ns);
        Ok(request.send()?.get()?.get_ready())
    }

    /// Whether input comes from a terminal, and whether this Console's
    /// output reaches one: what `isatty` answers for stdin and this stream.
    pub fn is_terminal(&self) -> Result<(bool, bool), Error> {
        let response = self.client.is_terminal_request().send()?;
        let r = response.get()?;
        Ok((r.get_input(), r.get_output()))
    }

    pub fn write_line(&self, text: &str) -> Result<(), Error> {
        self.write(&format!("{text}\n"))
    }
}

/// Bytes per `write` call: a slot's capacity less the message framing.
pub const WRITE_CHUNK: usize = capos_config::ring::SLOT_DATA_SIZE as usize - 64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_params_fit_in_a_slot_at_the_chunk_size() {
        let data = vec![0xff; WRITE_CHUNK];
        assert!(Console::write_params(&data).len() <= capos_config::ring::SLOT_DATA_SIZE as usize);
    }
}
