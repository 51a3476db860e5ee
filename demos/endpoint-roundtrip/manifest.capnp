@0xd3681c3ff0a9e1ca;
# endpoint-roundtrip: init serves an endpoint; a pinger holding only a
# call-only capability to it (and a timer) makes 10,000 round trips.

using M = import "/manifest.capnp";

const manifest :M.Manifest = (
  name = "endpoint-roundtrip",
  blobs = [(name = "endpoint-roundtrip", data = embed "../../build/wasm/endpoint-roundtrip.wasm")],
  init = (
    binary = "endpoint-roundtrip",
    argv = ["init"],
    caps = [
      (name = "console", source = (kernel = console)),
      (name = "spawner", source = (kernel = processSpawner)),
      (name = "boot", source = (kernel = bootPackage)),
      (name = "endpoints", source = (kernel = endpointFactory)),
      (name = "timer", source = (kernel = timer)),
    ],
  ),
  children = [
    ( binary = "endpoint-roundtrip",
      argv = ["pinger"],
      caps = [
        (name = "server", source = (fromParent = (name = "client", mode = move))),
        (name = "timer", source = (fromParent = (name = "timer", mode = copy))),
      ] ),
  ],
);
