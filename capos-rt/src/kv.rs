//! `KvStore` and `KvWriter` (schema/kv.capnp) over the generated clients.

use crate::Error;
use crate::message::cap_ref;

/// Most bytes one `get` returns and one `put` or `write` may carry.
pub const PART_MAX: usize = capos_config::ring::SLOT_DATA_SIZE as usize - 128;

crate::capability!(
    /// The manifest's persistent key-value store.
    KvStore, kv_store
);

impl KvStore {
    /// The whole value under `key`, read in parts if it is large.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        let mut value = Vec::new();
        loop {
            let mut call = self.client.get_request();
            {
                let mut p = call.get();
                p.set_key(key);
                p.set_offset(value.len() as u64);
                p.set_max(PART_MAX as u32);
            }
            let response = call.send()?;
            let results = response.get()?;
            if !results.get_found() {
                return Ok(None);
            }
            let data = results.get_data()?;
            value.extend_from_slice(data);
            let size = results.get_size();
            if value.len() as u64 >= size || data.is_empty() {
                return Ok(Some(value));
            }
        }
    }

    /// Stores `value` under `key`: in one call if it fits, else through a
    /// writer, committed at once.
    pub fn put(&self, key: &str, value: &[u8]) -> Result<(), Error> {
        if value.len() + key.len() <= PART_MAX - 64 {
            let mut call = self.client.put_request();
            call.get().set_key(key);
            call.get().set_value(value);
            call.send()?;
            return Ok(());
        }
        let writer = self.writer(key)?;
        for part in value.chunks(PART_MAX - 64) {
            writer.write(part)?;
        }
        writer.commit()
    }

    /// Whether there was a value to delete.
    pub fn delete(&self, key: &str) -> Result<bool, Error> {
        let mut call = self.client.delete_request();
        call.get().set_key(key);
        Ok(call.send()?.get()?.get_existed())
    }

    /// Every key starting with `prefix`, in order.
    pub fn list(&self, prefix: &str) -> Result<Vec<String>, Error> {
        let mut keys: Vec<String> = Vec::new();
        loop {
            let mut call = self.client.list_request();
            {
                let mut p = call.get();
                p.set_prefix(prefix);
                p.set_after(keys.last().map_or("", String::as_str));
                p.set_max(256);
            }
            let response = call.send()?;
            let results = response.get()?;
            for key in results.get_keys()? {
                keys.push(key?.to_string()?);
            }
            if !results.get_more() {
                return Ok(keys);
            }
        }
    }

    pub fn writer(&self, key: &str) -> Result<KvWriter, Error> {
        let mut call = self.client.writer_request();
        call.get().set_key(key);
        let response = call.send()?;
        KvWriter::from_cap(cap_ref(response.get()?.get_writer()?))
    }
}

crate::capability!(
    /// A value of any size, stored whole by `commit`.
    KvWriter, kv_writer
);

impl KvWriter {
    /// Appends `data` (at most `PART_MAX` bytes); returns the size so far.
    pub fn write(&self, data: &[u8]) -> Result<u64, Error> {
        let mut call = self.client.write_request();
        call.get().set_data(data);
        Ok(call.send()?.get()?.get_size())
    }

    pub fn commit(&self) -> Result<(), Error> {
        self.client.commit_request().send()?;
        Ok(())
    }
}
