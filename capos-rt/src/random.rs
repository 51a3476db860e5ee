//! `RandomSource` (schema/random.capnp) over the generated client.

use crate::{CapRef, Error, RingTransport};
use capos_schema::clients;
use capos_schema::interfaces::random_source as iface;

/// Most bytes one call returns (the kernel's limit).
const FILL_MAX: usize = 1024;

#[derive(Clone, Copy, Debug)]
pub struct RandomSource {
    client: clients::RandomSource<RingTransport>,
}

impl RandomSource {
    pub fn from_cap(cap: CapRef) -> Result<Self, Error> {
        Ok(Self {
            client: cap.client()?,
        })
    }

    pub fn open(env: &crate::Env, name: &str) -> Result<Self, Error> {
        Self::from_cap(CapRef::find(&env.capset, name, iface::INTERFACE_ID)?)
    }

    /// Fills `buf` with random bytes.
    pub fn fill(&self, buf: &mut [u8]) -> Result<(), Error> {
        for chunk in buf.chunks_mut(FILL_MAX) {
            let mut request = self.client.fill_request();
            request.get().set_len(chunk.len() as u32);
            let response = request.send()?;
            let data = response.get()?.get_data()?;
            if data.len() != chunk.len() {
                return Err(Error::Other("RandomSource returned a short fill".into()));
            }
            chunk.copy_from_slice(data);
        }
        Ok(())
    }
}
