@0xe1c7a2b9d4f05387;
# soak: init spawns a child that exits at once, a thousand times in a row,
# then a hundred children at once, and waits for them all. `make soak` reads
# the kernel's counts and the Workers alive before and after.

using M = import "/manifest.capnp";

const manifest :M.Manifest = (
  name = "soak",
  blobs = [(name = "soak", data = embed "../../build/wasm/soak.wasm")],
  init = (
    binary = "soak",
    argv = ["init", "1000", "100"],
    caps = [
      (name = "console", source = (kernel = console)),
      (name = "spawner", source = (kernel = processSpawner)),
      (name = "timer", source = (kernel = timer)),
    ],
  ),
);
