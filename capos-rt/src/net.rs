//! `Listener` and `Stream` (schema/net.capnp) over the generated clients:
//! the connections made to a port the process was granted.

use crate::Error;
use crate::message::cap_ref;

/// Most bytes one `read` returns (the kernel's limit), and one `write`
/// carries.
pub const PART_MAX: usize = capos_config::ring::SLOT_DATA_SIZE as usize - 128;
/// Most parts one `write_batch` sends with one kernel wake-up.
pub const BATCH_PARTS: usize = 32;

crate::capability!(
    /// The connections made to one port.
    Listener, listener
);

/// An accepted connection: its Stream, its number on the listener, and
/// where it came from.
#[derive(Debug)]
pub struct Accepted {
    pub stream: Stream,
    pub connection: u64,
    pub peer: String,
}

/// What `Listener::poll` found ready.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Ready {
    /// A connection waits to be accepted.
    pub acceptable: bool,
    /// (connection, readable, writable) for each ready connection asked about.
    pub connections: Vec<(u64, bool, bool)>,
}

impl Listener {
    /// The next connection; `None` if `wait` is false and none is waiting.
    pub fn accept(&self, wait: bool) -> Result<Option<Accepted>, Error> {
        let mut call = self.client.accept_request();
        call.get().set_wait(wait);
        let response = call.send()?;
        let results = response.get()?;
        if results.get_would_block() {
            return Ok(None);
        }
        Ok(Some(Accepted {
            stream: Stream::from_cap(cap_ref(results.get_stream()?))?,
            connection: results.get_connection(),
            peer: results.get_peer()?.to_string()?,
        }))
    }

    /// Waits until (if `accept`) a connection can be accepted or one of
    /// `interests` (connection, read, write) is ready, or `timeout_ns`
    /// passes (0: no wait; `u64::MAX`: no timeout).
    pub fn poll(
        &self,
        accept: bool,
        interests: &[(u64, bool, bool)],
        timeout_ns: u64,
    ) -> Result<Ready, Error> {
        let mut call = self.client.poll_request();
        {
            let mut p = call.get();
            p.set_timeout_ns(timeout_ns);
            p.set_accept(accept);
            let mut list = p.init_interests(interests.len() as u32);
            for (i, &(connection, read, write)) in interests.iter().enumerate() {
                let mut e = list.reborrow().get(i as u32);
                e.set_connection(connection);
                e.set_read(read);
                e.set_write(write);
            }
        }
        let response = call.send()?;
        let results = response.get()?;
        let mut ready = Ready {
            acceptable: results.get_acceptable(),
            connections: Vec::new(),
        };
        for r in results.get_ready()? {
            ready
                .connections
                .push((r.get_connection(), r.get_readable(), r.get_writable()));
        }
        Ok(ready)
    }

    pub fn port(&self) -> Result<u16, Error> {
        Ok(self.client.port_request().send()?.get()?.get_port())
    }
}

crate::capability!(
    /// One connection: bytes in, bytes out.
    Stream, stream
);

/// What a `Stream::read` returned.
#[derive(Debug, PartialEq, Eq)]
pub enum Read {
    Data(Vec<u8>),
    /// The peer finished sending.
    End,
    /// Nothing yet (only without `wait`).
    WouldBlock,
}

impl Stream {
    /// Up to `max` bytes (at most `PART_MAX`).
    pub fn read(&self, max: usize, wait: bool, peek: bool) -> Result<Read, Error> {
        let mut call = self.client.read_request();
        {
            let mut p = call.get();
            p.set_max(max.min(PART_MAX) as u32);
            p.set_wait(wait);
            p.set_peek(peek);
        }
        let response = call.send()?;
        let results = response.get()?;
        if results.get_would_block() {
            return Ok(Read::WouldBlock);
        }
        let data = results.get_data()?;
        if data.is_empty() && results.get_eof() {
            return Ok(Read::End);
        }
        Ok(Read::Data(data.to_vec()))
    }

    /// Writes a part of `data` (at most `PART_MAX` bytes); returns how much
    /// was taken: all of the part if `wait`, else what fit (0: none did).
    pub fn write(&self, data: &[u8], wait: bool) -> Result<usize, Error> {
        let part = &data[..data.len().min(PART_MAX)];
        let mut call = self.client.write_request();
        call.get().set_data(part);
        call.get().set_wait(wait);
        let response = call.send()?;
        Ok(response.get()?.get_written() as usize)
    }

    /// Writes all of `data`, waiting for room as needed.
    pub fn write_all(&self, data: &[u8]) -> Result<(), Error> {
        let mut written = 0;
        while written < data.len() {
            written += self.write_batch(&data[written..], true)?;
        }
        Ok(())
    }

    /// Writes up to `BATCH_PARTS` parts of `data` with one kernel wake-up
    /// (the kernel then sends them to the peer as one message); returns
    /// how much was taken. Without `wait`, parts are taken until one does
    /// not fit; what follows it in the batch is not (the window only
    /// shrinks while the kernel serves one batch), so the bytes taken are
    /// always a prefix of `data`.
    pub fn write_batch(&self, data: &[u8], wait: bool) -> Result<usize, Error> {
        let params: Vec<(usize, Vec<u8>)> = data
            .chunks(PART_MAX)
            .take(BATCH_PARTS)
            .map(|part| {
                let mut message = capnp::message::Builder::new_default();
                {
                    let mut p = message
                        .init_root::<capos_schema::net_capnp::stream::write_params::Builder<'_>>();
                    p.set_data(part);
                    p.set_wait(wait);
                }
                (
                    part.len(),
                    capnp::serialize::write_message_to_words(&message),
                )
            })
            .collect();
        let cap = self.cap();
        let calls: Vec<(crate::CapRef, u16, &[u8])> = params
            .iter()
            .map(|(_, p)| {
                (
                    cap,
                    capos_schema::interfaces::stream::method::WRITE,
                    p.as_slice(),
                )
            })
            .collect();
        let mut written = 0;
        for ((len, _), outcome) in params.iter().zip(crate::call_batch(&calls)?) {
            let n = match outcome {
                Ok(bytes) => {
                    let message = capnp::serialize::read_message_from_flat_slice(
                        &mut bytes.as_slice(),
                        capnp::message::ReaderOptions::new(),
                    )?;
                    message
                        .get_root::<capos_schema::net_capnp::stream::write_results::Reader<'_>>()?
                        .get_written() as usize
                }
                Err(e) if written == 0 => return Err(e),
                Err(_) => break,
            };
            written += n;
            if n < *len {
                break;
            }
        }
        Ok(written)
    }

    pub fn shutdown(&self, read: bool, write: bool) -> Result<(), Error> {
        let mut call = self.client.shutdown_request();
        call.get().set_read(read);
        call.get().set_write(write);
        call.send()?;
        Ok(())
    }

    /// This connection's number on its listener.
    pub fn connection(&self) -> Result<u64, Error> {
        Ok(self.client.info_request().send()?.get()?.get_connection())
    }
}
