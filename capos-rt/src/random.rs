//! Typed client of `RandomSource` (schema/random.capnp).

use crate::{CapRef, Error};
use capos_schema::interfaces::random_source as iface;
use capos_schema::random_capnp::random_source;

/// Most bytes one call returns (the kernel's limit).
const FILL_MAX: usize = 1024;

#[derive(Clone, Copy, Debug)]
pub struct RandomSource {
    cap: CapRef,
}

impl RandomSource {
    pub fn from_cap(cap: CapRef) -> Result<Self, Error> {
        crate::expect_interface(cap, iface::INTERFACE_ID, iface::NAME)?;
        Ok(Self { cap })
    }

    pub fn open(env: &crate::Env, name: &str) -> Result<Self, Error> {
        Self::from_cap(CapRef::find(&env.capset, name, iface::INTERFACE_ID)?)
    }

    /// Fills `buf` with random bytes.
    pub fn fill(&self, buf: &mut [u8]) -> Result<(), Error> {
        for chunk in buf.chunks_mut(FILL_MAX) {
            let mut m = crate::message::builder();
            m.init_root::<random_source::fill_params::Builder>()
                .set_len(chunk.len() as u32);
            let out = crate::call(self.cap, iface::method::FILL, &crate::message::bytes(&m))?;
            let r = crate::message::read(&out)?;
            let data = r
                .get_root::<random_source::fill_results::Reader>()?
                .get_data()?;
            if data.len() != chunk.len() {
                return Err(Error::Other("RandomSource returned a short fill".into()));
            }
            chunk.copy_from_slice(data);
        }
        Ok(())
    }
}
