//! KvStore and KvWriter: persistent keys and values in the browser's
//! IndexedDB, one namespace per manifest.
//!
//! Every operation is one host request (one IndexedDB transaction) and the
//! caller is parked until it is done, so a completed `put` is stored. A
//! value too large for one call is read in parts: a read from offset 0 goes
//! to the store and keeps the value, and reads further on are served from
//! that copy (so one pass over a value sees one version of it).

use super::{Inspect, append_within, encode, results_builder, serve, set_cap_ref, text};
use crate::host::{Host, HostClient, HostFailure, HostReply, HostRequest};
use crate::kernel::{CapEntry, Kernel};
use capos_config::ring::SLOT_DATA_SIZE;
use capos_lib::{CallContext, CapError, Completion, Fault, Reply, Served};
use capos_schema::kv_capnp::{kv_store, kv_writer};
use capos_schema::servers::{kv_store as store_server, kv_writer as writer_server};
use std::cell::RefCell;
use std::rc::Rc;

/// Longest key, in bytes.
pub const MAX_KEY: usize = 1024;
/// Largest value.
pub const MAX_VALUE: usize = 64 * 1024 * 1024;
/// Most bytes one `get` returns, and most bytes of keys one `list` returns.
pub const MAX_READ: u32 = SLOT_DATA_SIZE - 128;
/// Most keys one `list` asks the store for.
pub const MAX_LIST: u32 = 256;

/// One manifest's namespace, shared by every KvStore capability of the boot.
pub struct Kv {
    namespace: String,
    /// The value last read from offset 0, for the reads further into it.
    last_read: RefCell<Option<(String, Rc<Vec<u8>>)>>,
}

impl Kv {
    pub fn new(namespace: &str) -> Self {
        Self {
            namespace: namespace.to_string(),
            last_read: RefCell::new(None),
        }
    }

    fn forget(&self, key: &str) {
        let mut last = self.last_read.borrow_mut();
        if last.as_ref().is_some_and(|(k, _)| k == key) {
            *last = None;
        }
    }
}

fn check_key(key: &str) -> Result<(), Fault> {
    if key.is_empty() {
        return Err(Fault::bad_params("a key cannot be empty"));
    }
    if key.len() > MAX_KEY {
        return Err(Fault::new(
            CapError::TooLarge,
            format!("the key is {} bytes (at most {MAX_KEY})", key.len()),
        ));
    }
    Ok(())
}

fn failure(kind: HostFailure, message: String) -> Fault {
    let error = match kind {
        HostFailure::Quota => CapError::Exhausted,
        HostFailure::Invalid => CapError::BadParams,
        HostFailure::Denied => CapError::Denied,
        _ => CapError::Internal,
    };
    Fault::new(error, message)
}

/// What a parked KvStore call waits for.
enum Pending {
    Get { key: String, offset: u64, max: u32 },
    Put { key: String },
    Delete { key: String },
    List { max: u32 },
}

/// The host's answer to one KvStore call, for the caller waiting on it.
struct KvCall {
    kv: Rc<Kv>,
    pid: u32,
    user_data: u64,
    pending: Pending,
}

impl<H: Host> HostClient<H> for KvCall {
    fn on_reply(&self, kernel: &mut Kernel<H>, _id: u32, reply: HostReply) {
        let completion = match (reply, &self.pending) {
            (HostReply::Failed { kind, message }, _) => failure(kind, message).into(),
            (HostReply::KvValue(value), Pending::Get { key, offset, max }) => {
                let value = value.map(Rc::new);
                if let Some(value) = &value {
                    *self.kv.last_read.borrow_mut() = Some((key.clone(), value.clone()));
                }
                get_completion(value.as_deref().map(Vec::as_slice), *offset, *max)
            }
            (HostReply::KvDone, Pending::Put { key }) => {
                self.kv.forget(key);
                let mut message = results_builder();
                message.init_root::<kv_store::put_results::Builder<'_>>();
                encode(&message)
            }
            (HostReply::KvValue(old), Pending::Delete { key }) => {
                self.kv.forget(key);
                let mut message = results_builder();
                message
                    .init_root::<kv_store::delete_results::Builder<'_>>()
                    .set_existed(old.is_some());
                encode(&message)
            }
            (HostReply::KvKeys(keys), Pending::List { max }) => list_completion(&keys, *max),
            (other, _) => Fault::new(
                CapError::Internal,
                format!("the browser answered a KvStore call with {other:?}"),
            )
            .into(),
        };
        kernel.finish(self.pid, self.user_data, completion);
    }
}

/// A `get`'s results: up to `max` bytes from `offset`.
fn get_completion(value: Option<&[u8]>, offset: u64, max: u32) -> Completion {
    let mut message = results_builder();
    {
        let mut root = message.init_root::<kv_store::get_results::Builder<'_>>();
        if let Some(value) = value {
            root.set_found(true);
            root.set_size(value.len() as u64);
            let start = (offset.min(value.len() as u64)) as usize;
            let end = start + (value.len() - start).min(max as usize);
            root.set_data(&value[start..end]);
        }
    }
    encode(&message)
}

/// A `list`'s results: as many of `keys` as fit one completion (and `max`),
/// `more` when any are left out.
fn list_completion(keys: &[String], max: u32) -> Completion {
    let mut taken = 0;
    let mut bytes = 0;
    for key in keys.iter().take(max as usize) {
        // Each key costs its text, a NUL, padding and a list pointer.
        let cost = key.len() + 16;
        if bytes + cost > MAX_READ as usize {
            break;
        }
        bytes += cost;
        taken += 1;
    }
    let mut message = results_builder();
    {
        let mut root = message.init_root::<kv_store::list_results::Builder<'_>>();
        let mut list = root.reborrow().init_keys(taken as u32);
        for (i, key) in keys[..taken].iter().enumerate() {
            list.set(i as u32, key.as_str());
        }
        root.set_more(keys.len() > taken);
    }
    encode(&message)
}

/// The manifest's key-value store.
pub struct KvStore {
    kv: Rc<Kv>,
}

impl KvStore {
    pub fn new(kv: Rc<Kv>) -> Self {
        Self { kv }
    }

    fn ask<H: Host>(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        pending: Pending,
        request: HostRequest<'_>,
    ) -> Reply {
        let client = Rc::new(KvCall {
            kv: self.kv.clone(),
            pid: call.caller,
            user_data: call.user_data,
            pending,
        });
        kernel.host_request(client, request);
        Ok(Served::Pending)
    }
}

impl Inspect for KvStore {
    fn describe(&self) -> Option<String> {
        Some(format!("namespace {:?}", self.kv.namespace))
    }
}
serve!(KvStore, kv_store, inspect);

impl<H: Host> store_server::Server<Kernel<H>> for KvStore {
    fn get(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: kv_store::get_params::Reader<'_>,
        _results: kv_store::get_results::Builder<'_>,
    ) -> Reply {
        let key = text(params.get_key())?;
        check_key(&key)?;
        let offset = params.get_offset();
        let max = params.get_max().min(MAX_READ);
        if offset > 0 {
            let last = self.kv.last_read.borrow().clone();
            if let Some((k, value)) = last
                && k == key
            {
                kernel.finish(
                    call.caller,
                    call.user_data,
                    get_completion(Some(&value), offset, max),
                );
                return Ok(Served::Pending);
            }
        }
        let namespace = self.kv.namespace.clone();
        self.ask(
            kernel,
            call,
            Pending::Get {
                key: key.clone(),
                offset,
                max,
            },
            HostRequest::KvGet {
                namespace: &namespace,
                key: &key,
            },
        )
    }

    fn put(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: kv_store::put_params::Reader<'_>,
        _results: kv_store::put_results::Builder<'_>,
    ) -> Reply {
        let key = text(params.get_key())?;
        check_key(&key)?;
        let value = params.get_value()?;
        let namespace = self.kv.namespace.clone();
        self.ask(
            kernel,
            call,
            Pending::Put { key: key.clone() },
            HostRequest::KvPut {
                namespace: &namespace,
                key: &key,
                value,
            },
        )
    }

    fn delete(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: kv_store::delete_params::Reader<'_>,
        _results: kv_store::delete_results::Builder<'_>,
    ) -> Reply {
        let key = text(params.get_key())?;
        check_key(&key)?;
        let namespace = self.kv.namespace.clone();
        self.ask(
            kernel,
            call,
            Pending::Delete { key: key.clone() },
            HostRequest::KvDelete {
                namespace: &namespace,
                key: &key,
            },
        )
    }

    fn list(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: kv_store::list_params::Reader<'_>,
        _results: kv_store::list_results::Builder<'_>,
    ) -> Reply {
        let prefix = text(params.get_prefix())?;
        let after = text(params.get_after())?;
        if prefix.len() > MAX_KEY || after.len() > MAX_KEY {
            return Err(Fault::new(
                CapError::TooLarge,
                format!("a prefix or start key is over {MAX_KEY} bytes"),
            ));
        }
        let max = params.get_max().clamp(1, MAX_LIST);
        let namespace = self.kv.namespace.clone();
        self.ask(
            kernel,
            call,
            Pending::List { max },
            HostRequest::KvList {
                namespace: &namespace,
                prefix: &prefix,
                after: &after,
                max,
            },
        )
    }

    fn writer(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: kv_store::writer_params::Reader<'_>,
        results: kv_store::writer_results::Builder<'_>,
    ) -> Reply {
        let key = text(params.get_key())?;
        check_key(&key)?;
        let writer = KvWriter {
            kv: self.kv.clone(),
            key,
            value: RefCell::new(Some(Vec::new())),
        };
        let granted = kernel.insert_cap(
            call.caller,
            CapEntry {
                object: Rc::new(writer),
                badge: 0,
            },
        )?;
        set_cap_ref(results.init_writer(), granted);
        Ok(Served::Done)
    }
}

/// A value being written; stored whole by `commit`.
pub struct KvWriter {
    kv: Rc<Kv>,
    key: String,
    /// `None` once committed.
    value: RefCell<Option<Vec<u8>>>,
}

impl Inspect for KvWriter {
    fn describe(&self) -> Option<String> {
        Some(format!("key {:?}", self.key))
    }
}
serve!(KvWriter, kv_writer, inspect);

fn committed() -> Fault {
    Fault::new(CapError::Denied, "this writer has already committed")
}

impl<H: Host> writer_server::Server<Kernel<H>> for KvWriter {
    fn write(
        &self,
        _kernel: &mut Kernel<H>,
        _call: &CallContext,
        params: kv_writer::write_params::Reader<'_>,
        mut results: kv_writer::write_results::Builder<'_>,
    ) -> Reply {
        let data = params.get_data()?;
        let mut value = self.value.borrow_mut();
        let value = value.as_mut().ok_or_else(committed)?;
        results.set_size(append_within(value, data, MAX_VALUE, "a value")?);
        Ok(Served::Done)
    }

    fn commit(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        _params: kv_writer::commit_params::Reader<'_>,
        _results: kv_writer::commit_results::Builder<'_>,
    ) -> Reply {
        let value = self.value.borrow_mut().take().ok_or_else(committed)?;
        let store = KvStore {
            kv: self.kv.clone(),
        };
        let namespace = self.kv.namespace.clone();
        store.ask(
            kernel,
            call,
            Pending::Put {
                key: self.key.clone(),
            },
            HostRequest::KvPut {
                namespace: &namespace,
                key: &self.key,
                value: &value,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_that_does_not_fit_says_there_is_more() {
        let keys: Vec<String> = (0..40).map(|i| format!("{i:0>100}")).collect();
        let Completion::Done(bytes) = list_completion(&keys, 256) else {
            panic!("a list never fails");
        };
        assert!(bytes.len() <= SLOT_DATA_SIZE as usize);
        let message = capnp::serialize::read_message_from_flat_slice(
            &mut bytes.as_slice(),
            Default::default(),
        )
        .unwrap();
        let root = message
            .get_root::<kv_store::list_results::Reader<'_>>()
            .unwrap();
        assert!(root.get_more());
        assert!(root.get_keys().unwrap().len() < 40);
    }
}
