//! `Directory` and `File` (schema/fs.capnp) over the generated clients, for
//! native programs. A file-system failure is `Error::Errno` with the WASI
//! errno the kernel answered (ENOENT, ENOSPC...).

use crate::Error;
use crate::message::cap_ref;

/// Most bytes one `read` or `write` carries.
pub const PART_MAX: usize = capos_config::ring::SLOT_DATA_SIZE as usize - 256;

fn check(errno: u16) -> Result<(), Error> {
    match errno {
        0 => Ok(()),
        n => Err(Error::Errno(n)),
    }
}

crate::capability!(
    /// A directory tree, or the part of one under this directory.
    Directory, directory
);

impl Directory {
    /// The regular file at `path`, made (empty) first if `create`.
    pub fn open_file(&self, path: &str, create: bool) -> Result<File, Error> {
        let mut call = self.client.open_request();
        {
            let mut p = call.get();
            p.set_path(path);
            let mut flags = p.init_flags();
            flags.set_create(create);
            flags.set_follow_symlinks(true);
        }
        let response = call.send()?;
        let results = response.get()?;
        check(results.get_errno())?;
        File::from_cap(cap_ref(results.get_cap()?))
    }

    pub fn unlink(&self, path: &str) -> Result<(), Error> {
        let mut call = self.client.unlink_file_request();
        call.get().set_path(path);
        check(call.send()?.get()?.get_errno())
    }

    /// The names of its entries (without `.` and `..`), in order.
    pub fn names(&self) -> Result<Vec<String>, Error> {
        let mut names = Vec::new();
        let mut start = 0;
        loop {
            let mut call = self.client.list_request();
            call.get().set_start(start);
            call.get().set_max(256);
            let response = call.send()?;
            let results = response.get()?;
            let entries = results.get_entries()?;
            for e in entries {
                let name = e.get_name()?.to_string()?;
                if name != "." && name != ".." {
                    names.push(name);
                }
            }
            start += entries.len();
            if entries.is_empty() || start >= results.get_total() {
                return Ok(names);
            }
        }
    }

    /// Returns once every change to its tree so far is stored durably.
    pub fn sync(&self) -> Result<(), Error> {
        check(self.client.sync_request().send()?.get()?.get_errno())
    }
}

crate::capability!(
    /// One regular file's bytes.
    File, file
);

impl File {
    /// All of it.
    pub fn read_all(&self) -> Result<Vec<u8>, Error> {
        let mut bytes = Vec::new();
        loop {
            let mut call = self.client.read_request();
            call.get().set_offset(bytes.len() as u64);
            call.get().set_len(PART_MAX as u32);
            let response = call.send()?;
            let results = response.get()?;
            check(results.get_errno())?;
            let data = results.get_data()?;
            if data.is_empty() {
                return Ok(bytes);
            }
            bytes.extend_from_slice(data);
        }
    }

    /// Appends `data` (in parts); returns the size after it.
    pub fn append(&self, data: &[u8]) -> Result<u64, Error> {
        let mut end = 0;
        for part in data.chunks(PART_MAX) {
            let mut call = self.client.write_request();
            call.get().set_data(part);
            call.get().set_append(true);
            let response = call.send()?;
            let results = response.get()?;
            check(results.get_errno())?;
            end = results.get_end();
        }
        Ok(end)
    }

    /// Returns once every change to its tree so far is stored durably.
    pub fn sync(&self) -> Result<(), Error> {
        check(self.client.sync_request().send()?.get()?.get_errno())
    }
}
