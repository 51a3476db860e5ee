//! Typed client of the `Console` interface (schema/console.capnp).

use crate::{CapRef, Error};
use capos_schema::console_capnp::console;
use capos_schema::interfaces::console as iface;

/// Text output to the terminal.
#[derive(Clone, Copy, Debug)]
pub struct Console {
    cap: CapRef,
}

impl Console {
    pub fn from_cap(cap: CapRef) -> Result<Self, Error> {
        crate::expect_interface(cap, iface::INTERFACE_ID, iface::NAME)?;
        Ok(Self { cap })
    }

    /// An attenuated Console that starts every line with `prefix`.
    pub fn with_prefix(&self, prefix: &str) -> Result<Self, Error> {
        let mut m = crate::message::builder();
        m.init_root::<console::with_prefix_params::Builder>()
            .set_prefix(prefix);
        let out = crate::call(
            self.cap,
            iface::method::WITH_PREFIX,
            &crate::message::bytes(&m),
        )?;
        let r = crate::message::read(&out)?;
        Self::from_cap(crate::message::cap_ref(
            r.get_root::<console::with_prefix_results::Reader>()?
                .get_console()?,
        ))
    }

    pub fn cap(&self) -> CapRef {
        self.cap
    }

    /// The Console granted under `name`.
    pub fn open(env: &crate::Env, name: &str) -> Result<Self, Error> {
        Self::from_cap(CapRef::find(&env.capset, name, iface::INTERFACE_ID)?)
    }

    /// Builds the params message of `Console.write`.
    pub fn write_params(text: &str) -> Vec<u8> {
        let mut message = crate::message::builder();
        message
            .init_root::<console::write_params::Builder>()
            .set_text(text);
        capnp::serialize::write_message_to_words(&message)
    }

    /// Writes `text`, split into as many calls as the ring's slot size needs.
    pub fn write(&self, text: &str) -> Result<(), Error> {
        for chunk in chunks(text, WRITE_CHUNK) {
            crate::call(self.cap, iface::method::WRITE, &Self::write_params(chunk))?;
        }
        Ok(())
    }

    /// The first failure of this console's deferred writes since the last
    /// time this was asked.
    pub fn take_write_error(&self) -> Option<Error> {
        crate::take_deferred_error(self.cap)
    }

    /// Queues a write without waiting for it (see `call_deferred`); order
    /// with later calls is kept. Text larger than a slot is split; a failure
    /// is reported by [`take_write_error`](Self::take_write_error).
    pub fn write_deferred(&self, bytes: &[u8]) -> Result<(), Error> {
        // The kernel wants UTF-8; split only on char boundaries of valid
        // text, and pass invalid bytes through lossily.
        let text = String::from_utf8_lossy(bytes);
        for chunk in chunks(&text, WRITE_CHUNK) {
            crate::call_deferred(
                self.cap,
                iface::method::WRITE,
                &Self::write_params(chunk),
                crate::ring::results_ok,
            )?;
        }
        Ok(())
    }

    /// Up to `max` bytes of terminal input; blocks until there are some.
    /// Returns no bytes at end of input.
    pub fn read(&self, max: u32) -> Result<Vec<u8>, Error> {
        let mut m = crate::message::builder();
        m.init_root::<console::read_params::Builder>().set_max(max);
        let out = crate::call(self.cap, iface::method::READ, &crate::message::bytes(&m))?;
        let r = crate::message::read(&out)?;
        Ok(r.get_root::<console::read_results::Reader>()?
            .get_data()?
            .to_vec())
    }

    /// Whether input is readable within `timeout_ns` (`u64::MAX`: wait).
    pub fn wait_readable(&self, timeout_ns: u64) -> Result<bool, Error> {
        let mut m = crate::message::builder();
        m.init_root::<console::wait_readable_params::Builder>()
            .set_timeout_ns(timeout_ns);
        let out = crate::call(
            self.cap,
            iface::method::WAIT_READABLE,
            &crate::message::bytes(&m),
        )?;
        let r = crate::message::read(&out)?;
        Ok(r.get_root::<console::wait_readable_results::Reader>()?
            .get_ready())
    }

    pub fn write_line(&self, text: &str) -> Result<(), Error> {
        self.write(&format!("{text}\n"))
    }
}

/// Text bytes per `write` call: a slot's capacity less the message framing.
pub const WRITE_CHUNK: usize = capos_config::ring::SLOT_DATA_SIZE as usize - 64;

/// Splits `text` into pieces of at most `max` bytes on char boundaries.
pub fn chunks(text: &str, max: usize) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut end = rest.len().min(max);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (head, tail) = rest.split_at(end);
        rest = tail;
        Some(head)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_params_fit_in_a_slot_at_the_chunk_size() {
        let text = "x".repeat(WRITE_CHUNK);
        assert!(Console::write_params(&text).len() <= capos_config::ring::SLOT_DATA_SIZE as usize);
    }

    #[test]
    fn chunks_respect_char_boundaries() {
        let text = "aé".repeat(10);
        let parts: Vec<_> = chunks(&text, 4).collect();
        assert_eq!(parts.concat(), text);
        assert!(parts.iter().all(|p| p.len() <= 4));
    }
}
