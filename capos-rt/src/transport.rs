//! The generated clients (`capos_schema::clients`) over this process's ring.
//!
//! ```text
//! let timer: clients::Timer<RingTransport> = CapRef::find(&env.capset, "timer", id)?.client()?;
//! let ns = timer.now_request().send()?.get()?.get_ns();
//! ```

use crate::ring::ResultsCheck;
use crate::{CapRef, Error};
use capnp::traits::Owned;
use capos_schema::rpc::{CallTarget, Client, Request, Transport, WrongInterface};

/// Makes a generated client's calls through the process's ring
/// ([`call`](crate::call)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RingTransport;

impl Transport for RingTransport {
    type Error = Error;

    fn call(&self, target: CallTarget, params: &[u8]) -> Result<Vec<u8>, Error> {
        crate::call(target_cap(target), target.method, params)
    }
}

fn target_cap(target: CallTarget) -> CapRef {
    CapRef {
        cap_id: target.cap_id,
        interface_id: target.interface_id,
    }
}

impl From<WrongInterface> for Error {
    fn from(e: WrongInterface) -> Self {
        Self::Other(e.to_string())
    }
}

impl CapRef {
    /// A typed client of this capability; refused if it serves another
    /// interface than `C`'s.
    pub fn client<C: Client<Transport = RingTransport>>(self) -> Result<C, Error> {
        Ok(C::from_cap(self.cap_id, self.interface_id, RingTransport)?)
    }

    /// The capability `client` calls.
    pub fn of<C: Client>(client: &C) -> Self {
        Self {
            cap_id: client.cap_id(),
            interface_id: C::INTERFACE_ID,
        }
    }
}

/// The ring's ways to make a generated request besides `send`.
pub trait RingRequest {
    /// The capability, method and params message: what
    /// [`call_batch`](crate::call_batch) and [`call_pair`](crate::call_pair)
    /// take.
    fn parts(&self) -> (CapRef, u16, Vec<u8>);

    /// Queues the call without waiting for it (see
    /// [`call_deferred`](crate::call_deferred)): a refusal, or results that
    /// `check` rejects, is reported by
    /// [`take_deferred_error`](crate::take_deferred_error) for its capability.
    fn send_deferred(self, check: ResultsCheck) -> Result<(), Error>;
}

impl<P: Owned, R: Owned> RingRequest for Request<P, R, RingTransport> {
    fn parts(&self) -> (CapRef, u16, Vec<u8>) {
        let target = self.target();
        (target_cap(target), target.method, self.params_bytes())
    }

    fn send_deferred(self, check: ResultsCheck) -> Result<(), Error> {
        let (cap, method, params) = self.parts();
        crate::call_deferred(cap, method, &params, check)
    }
}
