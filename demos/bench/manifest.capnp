@0xfc6898617411619c;
# The ring benchmark (`make bench`).

using M = import "/manifest.capnp";

const manifest :M.Manifest = (
  name = "bench",
  blobs = [(name = "bench", data = embed "../../build/wasm/bench.wasm")],
  init = (
    binary = "bench",
    argv = ["init"],
    caps = [
      (name = "console", source = (kernel = console)),
      (name = "timer", source = (kernel = timer)),
      (name = "echo", source = (kernel = echo)),
      (name = "spawner", source = (kernel = processSpawner)),
      (name = "endpoints", source = (kernel = endpointFactory)),
    ],
  ),
);
