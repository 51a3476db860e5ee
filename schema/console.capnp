@0xc533c6495474e854;
# Text output to the terminal the system is attached to.

using Cap = import "cap.capnp";

interface Console {
  write @0 (text :Text) -> ();
  # Appends `text` to the terminal. The kernel refuses text that is not
  # valid UTF-8 (BadParams).

  withPrefix @1 (prefix :Text) -> (console :Cap.CapRef);
  # An attenuated Console: everything written through it starts each line
  # with `prefix`. It can do no more than the Console it came from.

  read @2 (max :UInt32) -> (data :Data, eof :Bool);
  # Up to `max` bytes typed at the terminal (or piped to `capos run`);
  # blocks until there are some. `eof` once input has ended and is drained.

  waitReadable @3 (timeoutNs :UInt64) -> (ready :Bool);
  # Blocks until `read` would not block, or `timeoutNs` passes
  # (0xffffffffffffffff: no timeout). For WASI poll_oneoff.
}
