@0xb29e695c6d9635f6;
# Test-only: a server exits while a caller is blocked on it.

using M = import "/manifest.capnp";

const manifest :M.Manifest = (
  name = "dead-server",
  blobs = [(name = "dead-server", data = embed "../../build/wasm/dead-server.wasm")],
  init = (
    binary = "dead-server",
    argv = ["init"],
    caps = [
      (name = "console", source = (kernel = console)),
      (name = "spawner", source = (kernel = processSpawner)),
      (name = "boot", source = (kernel = bootPackage)),
      (name = "endpoints", source = (kernel = endpointFactory)),
    ],
  ),
  children = [
    ( binary = "dead-server", argv = ["quitter"],
      caps = [
        (name = "console", source = (fromParent = (name = "console", mode = copy))),
        (name = "endpoint", source = (fromParent = (name = "endpoint", mode = move))),
      ] ),
    ( binary = "dead-server", argv = ["survivor"],
      caps = [
        (name = "console", source = (fromParent = (name = "console", mode = copy))),
      ] ),
  ],
);
