@0xb47d408273591814;
# Processes: spawning them, waiting for them, and the package they boot from.

using Cap = import "cap.capnp";
using Manifest = import "manifest.capnp";

struct Grant {
  name @0 :Text;
  # The name the child finds the capability under in its CapSet.
  cap @1 :Cap.CapTransfer;
  # Which of the caller's capabilities, moved or copied.
}

interface ProcessSpawner {
  spawn @0 (binary :Text, argv :List(Text), grants :List(Grant), env :List(Text),
            memoryLimitMiB :UInt32)
        -> (handle :Cap.CapRef, pid :UInt32);
  # Starts `binary` (a blob of the BootPackage) in a new Worker with a new
  # ring, holding exactly `grants`. Returns a ProcessHandle. `memoryLimitMiB`
  # as in Manifest.ProcessSpec (0: the default).
}

interface ProcessHandle {
  wait @0 () -> (code :Int32, reason :Text);
  # Completes when the process has ended (at once if it already has).

  kill @1 () -> ();
  # Ends the process (exit code 137); its pending calls fail, its
  # capabilities are released.
}

interface BootPackage {
  list @0 () -> (blobs :List(BlobInfo));
  fetch @1 (name :Text, offset :UInt64, length :UInt32) -> (data :Data, total :UInt64);
  # Part of a blob: at most `length` bytes from `offset` (a ring slot
  # bounds one reply; read a large blob in pieces).
  children @2 (start :UInt32) -> (specs :List(Manifest.ProcessSpec), total :UInt32);
  # The processes the manifest asks init to spawn, from index `start`: as
  # many as fit one ring slot (at least one); `total` says how many there
  # are, so a caller asks again from where this page ended.
}

struct BlobInfo {
  name @0 :Text;
  size @1 :UInt64;
  # 0 for a runtime: its bytes are the kernel Worker's to load, not the package's.
  runtime @2 :Text;
  # The catalogue runtime the blob names, or empty.
}
