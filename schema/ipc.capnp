@0xd3976aecf5e8389f;
# Synchronous IPC between processes, with capability transfer and badges.

using Cap = import "cap.capnp";

interface EndpointFactory {
  create @0 () -> (endpoint :Cap.CapRef);
  # A new endpoint. The capability returned may call, receive, reply and
  # mint; its badge is 0.
}

interface Endpoint {
  call @0 (data :Data, caps :List(Cap.CapTransfer)) -> (data :Data, caps :List(Cap.CapRef));
  # Sends a message and blocks for the reply. Fails with PeerGone if no
  # process can receive on the endpoint, or its server ends before replying.

  receive @1 () -> (callId :UInt64, badge :UInt64, data :Data, caps :List(Cap.CapRef));
  # Blocks for the next call. `badge` is the badge of the capability the
  # caller invoked: how a server tells its clients apart. Needs a
  # receive-capable capability (from `create`, not from `mint`). Fails with
  # PeerGone once no capability that could call is left.

  reply @2 (callId :UInt64, data :Data, caps :List(Cap.CapTransfer)) -> ();
  # Answers call `callId` received on this endpoint.

  mint @3 (badge :UInt64) -> (endpoint :Cap.CapRef);
  # A call-only capability to this endpoint that carries `badge`. Needs the
  # capability returned by `create`.
}
