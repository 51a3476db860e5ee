//! `EndpointFactory` and `Endpoint` (schema/ipc.capnp) over the generated
//! clients.

use crate::message::{cap_ref, set_transfers};
use crate::{CapRef, Error, RingRequest, RingTransport, TransferMode};
use capos_schema::ipc_capnp::endpoint;
use capos_schema::rpc::{Request, Response};

crate::capability!(
    /// Creates endpoints.
    EndpointFactory, endpoint_factory
);

crate::capability!(
    /// A capability to an endpoint: call-only (minted, badged) or the server's
    /// (receive, reply, mint).
    #[derive(PartialEq, Eq)]
    Endpoint, endpoint
);

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

type ReplyRequest =
    Request<endpoint::reply_params::Owned, endpoint::reply_results::Owned, RingTransport>;

impl EndpointFactory {
    pub fn create(&self) -> Result<Endpoint, Error> {
        let response = self.client.create_request().send()?;
        Endpoint::from_cap(cap_ref(response.get()?.get_endpoint()?))
    }
}

impl Endpoint {
    /// Sends `data` (and capabilities) and blocks for the reply.
    pub fn call(&self, data: &[u8], caps: &[(CapRef, TransferMode)]) -> Result<Reply, Error> {
        let mut request = self.client.call_request();
        let mut params = request.get();
        params.set_data(data);
        set_transfers(params.init_caps(caps.len() as u32), caps);
        let response = request.send()?;
        let results = response.get()?;
        Ok(Reply {
            data: results.get_data()?.to_vec(),
            caps: results.get_caps()?.iter().map(cap_ref).collect(),
        })
    }

    /// Blocks for the next call.
    pub fn receive(&self) -> Result<Incoming, Error> {
        incoming(&self.client.receive_request().send()?)
    }

    pub fn reply(
        &self,
        call_id: u64,
        data: &[u8],
        caps: &[(CapRef, TransferMode)],
    ) -> Result<(), Error> {
        self.reply_request(call_id, data, caps).send().map(drop)
    }

    fn reply_request(
        &self,
        call_id: u64,
        data: &[u8],
        caps: &[(CapRef, TransferMode)],
    ) -> ReplyRequest {
        let mut request = self.client.reply_request();
        let mut params = request.get();
        params.set_call_id(call_id);
        params.set_data(data);
        set_transfers(params.init_caps(caps.len() as u32), caps);
        request
    }

    /// Replies and waits for the next call with a single kernel wake-up.
    pub fn reply_and_receive(
        &self,
        call_id: u64,
        data: &[u8],
        caps: &[(CapRef, TransferMode)],
    ) -> Result<Incoming, Error> {
        let (reply_cap, reply_method, reply) = self.reply_request(call_id, data, caps).parts();
        let (receive_cap, receive_method, receive) = self.client.receive_request().parts();
        let (replied, received) = crate::call_pair(
            (reply_cap, reply_method, &reply),
            (receive_cap, receive_method, &receive),
        )?;
        replied?;
        incoming(&Response::read(&received?)?)
    }

    /// A call-only capability to this endpoint carrying `badge`.
    pub fn mint(&self, badge: u64) -> Result<Endpoint, Error> {
        let mut request = self.client.mint_request();
        request.get().set_badge(badge);
        let response = request.send()?;
        Endpoint::from_cap(cap_ref(response.get()?.get_endpoint()?))
    }
}

fn incoming(response: &Response<endpoint::receive_results::Owned>) -> Result<Incoming, Error> {
    let results = response.get()?;
    Ok(Incoming {
        call_id: results.get_call_id(),
        badge: results.get_badge(),
        data: results.get_data()?.to_vec(),
        caps: results.get_caps()?.iter().map(cap_ref).collect(),
    })
}
