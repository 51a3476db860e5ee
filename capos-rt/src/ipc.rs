//! Typed clients of `EndpointFactory` and `Endpoint` (schema/ipc.capnp).

use crate::message::{self, Transfer, cap_ref, set_transfers};
use crate::{CapRef, Error};
use capos_schema::interfaces::{endpoint as iface, endpoint_factory as factory_iface};
use capos_schema::ipc_capnp::{endpoint, endpoint_factory};

/// Creates endpoints.
#[derive(Clone, Copy, Debug)]
pub struct EndpointFactory {
    cap: CapRef,
}

/// A capability to an endpoint: call-only (minted, badged) or the server's
/// (receive, reply, mint).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint {
    cap: CapRef,
}

/// A call as the server received it.
#[derive(Debug)]
pub struct Incoming {
    pub call_id: u64,
    /// The badge of the capability the caller used.
    pub badge: u64,
    pub data: Vec<u8>,
    /// Capabilities the caller sent, now in this process's table.
    pub caps: Vec<CapRef>,
}

/// A reply as the caller received it.
#[derive(Debug)]
pub struct Reply {
    pub data: Vec<u8>,
    pub caps: Vec<CapRef>,
}

impl EndpointFactory {
    pub fn from_cap(cap: CapRef) -> Result<Self, Error> {
        crate::expect_interface(cap, factory_iface::INTERFACE_ID, factory_iface::NAME)?;
        Ok(Self { cap })
    }

    pub fn open(env: &crate::Env, name: &str) -> Result<Self, Error> {
        Self::from_cap(CapRef::find(
            &env.capset,
            name,
            factory_iface::INTERFACE_ID,
        )?)
    }

    pub fn create(&self) -> Result<Endpoint, Error> {
        let mut m = message::builder();
        m.init_root::<endpoint_factory::create_params::Builder>();
        let out = crate::call(self.cap, factory_iface::method::CREATE, &message::bytes(&m))?;
        let r = message::read(&out)?;
        Endpoint::from_cap(cap_ref(
            r.get_root::<endpoint_factory::create_results::Reader>()?
                .get_endpoint()?,
        ))
    }
}

impl Endpoint {
    pub fn from_cap(cap: CapRef) -> Result<Self, Error> {
        crate::expect_interface(cap, iface::INTERFACE_ID, iface::NAME)?;
        Ok(Self { cap })
    }

    pub fn cap(&self) -> CapRef {
        self.cap
    }

    pub fn open(env: &crate::Env, name: &str) -> Result<Self, Error> {
        Self::from_cap(CapRef::find(&env.capset, name, iface::INTERFACE_ID)?)
    }

    pub fn call_params(data: &[u8], caps: &[(CapRef, Transfer)]) -> Vec<u8> {
        let mut m = message::builder();
        let mut p = m.init_root::<endpoint::call_params::Builder>();
        p.set_data(data);
        set_transfers(p.init_caps(caps.len() as u32), caps);
        message::bytes(&m)
    }

    pub fn reply_params(call_id: u64, data: &[u8], caps: &[(CapRef, Transfer)]) -> Vec<u8> {
        let mut m = message::builder();
        let mut p = m.init_root::<endpoint::reply_params::Builder>();
        p.set_call_id(call_id);
        p.set_data(data);
        set_transfers(p.init_caps(caps.len() as u32), caps);
        message::bytes(&m)
    }

    fn receive_params() -> Vec<u8> {
        let mut m = message::builder();
        m.init_root::<endpoint::receive_params::Builder>();
        message::bytes(&m)
    }

    pub fn parse_incoming(data: &[u8]) -> Result<Incoming, Error> {
        let r = message::read(data)?;
        let res = r.get_root::<endpoint::receive_results::Reader>()?;
        Ok(Incoming {
            call_id: res.get_call_id(),
            badge: res.get_badge(),
            data: res.get_data()?.to_vec(),
            caps: res.get_caps()?.iter().map(cap_ref).collect(),
        })
    }

    pub fn parse_reply(data: &[u8]) -> Result<Reply, Error> {
        let r = message::read(data)?;
        let res = r.get_root::<endpoint::call_results::Reader>()?;
        Ok(Reply {
            data: res.get_data()?.to_vec(),
            caps: res.get_caps()?.iter().map(cap_ref).collect(),
        })
    }

    /// Sends `data` (and capabilities) and blocks for the reply.
    pub fn call(&self, data: &[u8], caps: &[(CapRef, Transfer)]) -> Result<Reply, Error> {
        let out = crate::call(
            self.cap,
            iface::method::CALL,
            &Self::call_params(data, caps),
        )?;
        Self::parse_reply(&out)
    }

    /// Blocks for the next call.
    pub fn receive(&self) -> Result<Incoming, Error> {
        let out = crate::call(self.cap, iface::method::RECEIVE, &Self::receive_params())?;
        Self::parse_incoming(&out)
    }

    pub fn reply(
        &self,
        call_id: u64,
        data: &[u8],
        caps: &[(CapRef, Transfer)],
    ) -> Result<(), Error> {
        crate::call(
            self.cap,
            iface::method::REPLY,
            &Self::reply_params(call_id, data, caps),
        )
        .map(drop)
    }

    /// Replies and waits for the next call with a single kernel wake-up.
    pub fn reply_and_receive(
        &self,
        call_id: u64,
        data: &[u8],
        caps: &[(CapRef, Transfer)],
    ) -> Result<Incoming, Error> {
        let reply = Self::reply_params(call_id, data, caps);
        let receive = Self::receive_params();
        let (replied, received) = crate::call_pair(
            (self.cap, iface::method::REPLY, &reply),
            (self.cap, iface::method::RECEIVE, &receive),
        )?;
        replied?;
        Self::parse_incoming(&received?)
    }

    /// A call-only capability to this endpoint carrying `badge`.
    pub fn mint(&self, badge: u64) -> Result<Endpoint, Error> {
        let mut m = message::builder();
        m.init_root::<endpoint::mint_params::Builder>()
            .set_badge(badge);
        let out = crate::call(self.cap, iface::method::MINT, &message::bytes(&m))?;
        let r = message::read(&out)?;
        Endpoint::from_cap(cap_ref(
            r.get_root::<endpoint::mint_results::Reader>()?
                .get_endpoint()?,
        ))
    }
}
