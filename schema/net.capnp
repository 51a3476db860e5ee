@0xd3a1c5e7f9b20846;
# Listening sockets. A process holding a Listener for a port is handed each
# connection made to that port as a Stream of bytes: from the page's preview
# (a ServiceWorker turns a request for /preview/<port>/... into one), or from
# `capos run --tcplisten` (a real TCP connection on the host). Only a
# holder of the Listener can accept; a port is bound once per boot (a
# manifest granting it twice does not boot); dropping the last capability
# to the Listener (closing it, or exiting) frees the port and refuses the
# connections nobody accepted. There is no way to open an outbound
# connection: a browser has none to give.
#
# Failures: `PeerGone` (the connection was reset, or the peer vanished),
# `BadParams`. A call that would block and was asked not to returns
# `wouldBlock` rather than failing. docs/networking.md has the design.

using Cap = import "cap.capnp";

struct Interest {
  connection @0 :UInt64;
  # A Stream's `connection`, as `Listener.accept` and `Stream.info` give it.
  read @1 :Bool;
  write @2 :Bool;
}

struct Readiness {
  connection @0 :UInt64;
  # A Stream's `connection`, as `Stream.info` gives it.
  readable @1 :Bool;
  # Data is buffered, or the peer finished sending, or the connection failed:
  # a read will not block.
  writable @2 :Bool;
  # A write will not block (or fails at once: the connection is over).
}

interface Listener {
  accept @0 (wait :Bool) -> (stream :Cap.CapRef, connection :UInt64, peer :Text, wouldBlock :Bool);
  # The oldest connection not yet accepted, as a new Stream. `wait`: blocks
  # until one arrives; else `wouldBlock` when none is queued (no stream).
  # `connection` numbers this listener's connections (from 1); `peer` says
  # where it came from ("preview", or a host address such as
  # "127.0.0.1:51234").

  poll @1 (accept :Bool, interests :List(Interest), timeoutNs :UInt64) -> (acceptable :Bool, ready :List(Readiness));
  # Waits until (if `accept`) a connection waits to be accepted, or one of
  # the connections named (accepted from this listener) is ready for what
  # its interest asks, or `timeoutNs` passes (0: does not wait; UInt64 max:
  # no timeout). `ready` lists the connections ready for what was asked, in
  # the order given; an unknown or closed number is ready for both (its next
  # call fails at once). At most 64 interests.

  port @2 () -> (port :UInt16);
}

interface Stream {
  read @0 (max :UInt32, wait :Bool, peek :Bool) -> (data :Data, eof :Bool, wouldBlock :Bool);
  # Up to `max` bytes (at most one ring slot's worth), in order. `wait`:
  # blocks until some arrive or the peer finishes sending (`eof`, no data);
  # else `wouldBlock`. `peek` leaves them to be read again.

  write @1 (data :Data, wait :Bool) -> (written :UInt32, wouldBlock :Bool);
  # Queues `data` for the peer. The kernel keeps at most 256 KiB in flight
  # per connection: past that, `wait` blocks until the peer has taken some
  # (a client that stops reading stops the writer, as TCP does), and no
  # wait writes what fits (`wouldBlock` when nothing does). After a
  # shutdown of writing, or once the peer is gone: PeerGone.

  shutdown @2 (read :Bool, write :Bool) -> ();
  # `write`: the peer sees the end of the stream once what was written has
  # gone. `read`: what the peer still sends is discarded. Both: the
  # connection is closed. Dropping the capability does the same.

  info @3 () -> (connection :UInt64, peer :Text, port :UInt16);
}
