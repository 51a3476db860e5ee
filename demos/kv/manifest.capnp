@0xdf89e57e61339131;
# kv: init keeps a boot counter, a log of boots and a 300,000-byte value in
# the manifest's KvStore (IndexedDB, namespace "kv"); reload the page and it
# finds them again.

using M = import "/manifest.capnp";

const manifest :M.Manifest = (
  name = "kv",
  blobs = [(name = "kv", data = embed "../../build/wasm/kv.wasm")],
  init = (
    binary = "kv",
    argv = ["init"],
    caps = [
      (name = "console", source = (kernel = console)),
      (name = "store", source = (kernel = kvStore)),
    ],
  ),
);
