@0xf65f5cc661fb483d;
# A boot manifest: the binaries a system boots with, the spec of init, and the
# children init spawns. Authored in capnp text (demos/*/manifest.capnp) and
# compiled to binary at build time with `capnp eval --binary`.

using Cap = import "cap.capnp";

struct Manifest {
  name @0 :Text;
  blobs @1 :List(NamedBlob);
  # Binaries (wasm modules) by name; ProcessSpec.binary refers to them.
  init @2 :ProcessSpec;
  children @3 :List(ProcessSpec);
  # What init spawns (it reads them from its BootPackage). Their grants name
  # capabilities of init's, with `fromParent`.
  mounts @4 :List(Mount);
  # Directory trees the kernel holds; init may be granted them.
  terminal @5 :Terminal;
  # Which standard streams reach a terminal (what Console.isTerminal says).
  # Absent: all of them, as on the page.
  hostFiles @6 :Text;
  # Where the bytes of `hostFile` nodes are read from, on first use: a path
  # on the page's own origin starting with /hostfs/ (`capos run --dir`
  # serves it for the length of the run); a file's bytes are at this path
  # followed by its id in decimal. Empty: the manifest has no hostFile nodes.
}

struct Terminal {
  input @0 :Bool = true;
  stdout @1 :Bool = true;
  stderr @2 :Bool = true;
}

struct Mount {
  guest @0 :Text;
  # The path it is granted as (a WASI preopen's name).
  root @1 :FsNode;
  # The tree. For a persistent mount, what the store starts with the first
  # time (when the browser holds no store of that name yet).
  store @2 :Text;
  # Empty: the tree lives in kernel memory and is gone after the boot.
  # A name ([a-z0-9][a-z0-9-]*, at most 64): the tree is persistent, kept in
  # the browser's storage for this site under that name (docs/files.md), and
  # found again by the next boot that names it. The first mount of a store
  # seeds it (`root`).
  quotaBytes @3 :UInt64;
  # A persistent mount's limit on the bytes its files hold (writes past it
  # fail with ENOSPC); 0: what the browser grants the site.
  storePath @4 :Text;
  # A persistent mount grants this directory of the store ("": its root),
  # made if missing: a program can be given one folder of a store and
  # nothing else. Several mounts may name one store (one tree).
}

struct FsNode {
  name @0 :Text;
  union {
    file @1 :Data;
    directory @2 :List(FsNode);
    symlink @3 :Text;
    hostFile @4 :HostFile;
    # A file left on the host (only in a mount held in memory): its bytes
    # are read from `Manifest.hostFiles` when a program first opens it.
  }
}

struct HostFile {
  id @0 :UInt64;
  size @1 :UInt64;
  # What it held when the manifest was made (what stat reports before the
  # first open).
}

struct NamedBlob {
  name @0 :Text;
  data @1 :Data;
  # The module's bytes; empty when the blob names a runtime.
  runtime @2 :Text;
  # A language runtime from the catalogue (runtimes/catalogue.json on the site, e.g. "python"),
  # which the kernel Worker loads: from its cache by SHA-256, or downloaded, checked against
  # that SHA-256 before it is compiled, and cached. Empty: the blob is `data`.
  runtimeSha256 @3 :Text;
  # The SHA-256 (64 lowercase hex digits) the runtime must have; empty: the catalogue's.
}

struct ProcessSpec {
  binary @0 :Text;
  argv @1 :List(Text);
  # argv[0] names the process (the Worker is named "pid N: argv[0]").
  caps @2 :List(CapGrant);
  # Exactly the authority the process starts with, each under a name it
  # looks up in its CapSet.
  env @3 :List(Text);
  # KEY=VALUE strings (what WASI's environ_get returns).
  trapUnknownImports @4 :Bool;
  # A WASI program importing what the shim does not provide starts anyway;
  # such an import traps when called (wasmtime's --trap-unknown-imports).
  # Without it the program does not start, and the error names the import.
  memoryLimitMiB @5 :UInt32;
  # The most linear memory the process may have, in MiB (at most 4096);
  # 0: the default, 1024. Enforced by the module itself (its memory's
  # maximum is lowered to it before it is compiled), so growing past it
  # fails inside the program, which then ends "at its memory limit".
}

struct CapGrant {
  name @0 :Text;
  source :union {
    kernel @1 :KernelService;
    # A capability the kernel itself serves; only init may be granted these.
    fromParent @2 :ParentCap;
    # A capability of the spawning process, by the name it has there.
    mount @3 :UInt32;
    # A Directory capability on the manifest's mount of that index (init only).
    listen @4 :UInt16;
    # A Listener (schema/net.capnp) on this port (init only): the kernel
    # hands the holder each connection made to it. A port may be granted
    # once per manifest; 0 is not a port.
  }
}

struct ParentCap {
  name @0 :Text;
  mode @1 :Cap.TransferMode;
}

enum KernelService {
  console @0;
  kernelPanicTrigger @1;
  # Test-only: calling it panics the kernel, to prove panics are reported
  # and every Worker is torn down.
  processSpawner @2;
  bootPackage @3;
  endpointFactory @4;
  timer @5;
  echo @6;
  # Answers with what it is sent: the null call benchmarks measure.
  stderr @7;
  # A Console whose text is the error stream (stderr of `capos run`).
  random @8;
  # RandomSource: the browser's crypto.getRandomValues.
  fetch @9;
  # Fetch: HTTP to any URL through the browser. Hand it to a policy process
  # that mints per-origin HttpEndpoints for the others.
  kvStore @10;
  # KvStore over IndexedDB, in this manifest's own namespace.
  clipboard @11;
  # Clipboard: the page's clipboard, which the page may refuse.
  display @12;
  # Display: the boot's framebuffer, shown on the page.
}
