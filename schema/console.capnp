@0xc533c6495474e854;
# Output to the terminal the system is attached to, and its input. Bytes,
# not text: what a program writes reaches the terminal (or the file or pipe
# `capos run` writes to) exactly as written.

using Cap = import "cap.capnp";

interface Console {
  write @0 (data :Data) -> ();
  # Appends `data` to the output stream, byte for byte. A UTF-8 character
  # may be split across writes; whoever renders the stream as text decodes
  # it across write boundaries.

  withPrefix @1 (prefix :Text) -> (console :Cap.CapRef);
  # An attenuated Console: everything written through it starts each line
  # with `prefix`. It can do no more than the Console it came from.

  read @2 (max :UInt32) -> (data :Data, eof :Bool);
  # Up to `max` bytes typed at the terminal (or piped to `capos run`);
  # blocks until there are some. `eof` once input has ended and is drained.

  waitReadable @3 (timeoutNs :UInt64) -> (ready :Bool);
  # Blocks until `read` would not block, or `timeoutNs` passes
  # (0xffffffffffffffff: no timeout). For WASI poll_oneoff.

  isTerminal @4 () -> (input :Bool, output :Bool);
  # Whether the input is typed at a terminal, and whether this Console's
  # output stream reaches one (not a pipe or a file): what `isatty` answers.
  # On the page both are; under `capos run` each follows the CLI's own
  # stdin, stdout and stderr.
}
