//! `Clipboard` (schema/clipboard.capnp) over the generated client.

use crate::Error;

/// Most bytes one read returns (the kernel's limit).
const READ_MAX: u32 = capos_config::ring::SLOT_DATA_SIZE - 128;

crate::capability!(Clipboard, clipboard);

impl Clipboard {
    /// The clipboard's whole text (the page may refuse: `Denied`).
    pub fn read(&self) -> Result<String, Error> {
        let mut bytes = Vec::new();
        loop {
            let mut call = self.client.read_request();
            call.get().set_offset(bytes.len() as u64);
            call.get().set_max(READ_MAX);
            let response = call.send()?;
            let r = response.get()?;
            let data = r.get_data()?;
            bytes.extend_from_slice(data);
            if data.is_empty() || bytes.len() as u64 >= r.get_size() {
                break;
            }
        }
        String::from_utf8(bytes)
            .map_err(|_| Error::Other("the clipboard's text is not UTF-8".into()))
    }

    pub fn write(&self, text: &str) -> Result<(), Error> {
        let mut call = self.client.write_request();
        call.get().set_text(text);
        call.send().map(drop)
    }
}
