@0xc4f1a7e2b95d3068;
# revoke: init kills a server that took a call and never answers; the kernel
# revokes what it held and its blocked caller is answered PeerGone.

using M = import "/manifest.capnp";

const manifest :M.Manifest = (
  name = "revoke",
  blobs = [(name = "revoke", data = embed "../../build/wasm/revoke.wasm")],
  init = (
    binary = "revoke",
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
    ( binary = "revoke", argv = ["revoke-server"],
      caps = [
        (name = "console", source = (fromParent = (name = "console", mode = copy))),
        (name = "endpoint", source = (fromParent = (name = "endpoint", mode = move))),
      ] ),
    ( binary = "revoke", argv = ["revoke-client"],
      caps = [
        (name = "console", source = (fromParent = (name = "console", mode = copy))),
        (name = "server", source = (fromParent = (name = "client", mode = move))),
      ] ),
  ],
);
