@0x95ece46a5583f5aa;
# The host-capabilities benchmark (`make bench`, target/bench/host.json).

using M = import "/manifest.capnp";

const manifest :M.Manifest = (
  name = "bench-host",
  blobs = [(name = "bench-host", data = embed "../../build/wasm/bench-host.wasm")],
  init = (
    binary = "bench-host",
    argv = ["init"],
    caps = [
      (name = "console", source = (kernel = console)),
      (name = "timer", source = (kernel = timer)),
      (name = "fetch", source = (kernel = fetch)),
      (name = "store", source = (kernel = kvStore)),
      (name = "display", source = (kernel = display)),
    ],
  ),
);
