//! `RandomSource` (schema/random.capnp) over the generated client.

use crate::Error;

/// Most bytes one call returns (the kernel's limit).
const FILL_MAX: usize = 1024;

crate::capability!(RandomSource, random_source);

impl RandomSource {
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
