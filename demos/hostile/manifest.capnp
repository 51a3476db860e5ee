@0xb7d2e9c4a1f35086;
# hostile: processes that try to break the capability model, one after the
# other, each refused; init checks the outcome of every attempt, prints its
# figures and exits 0 only if each was refused exactly as it should be.
# (See demos/hostile/src/lib.rs; spawned by binary name, not from `children`.)

using M = import "/manifest.capnp";

const manifest :M.Manifest = (
  name = "hostile",
  blobs = [(name = "hostile", data = embed "../../build/wasm/hostile.wasm")],
  init = (
    binary = "hostile",
    argv = ["init"],
    caps = [
      (name = "console", source = (kernel = console)),
      (name = "spawner", source = (kernel = processSpawner)),
      (name = "endpoints", source = (kernel = endpointFactory)),
      (name = "timer", source = (kernel = timer)),
    ],
  ),
);
