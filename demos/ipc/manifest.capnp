@0xfff51cef9c42e8dc;
# ipc: an ipc-server and two ipc-clients, each client with a differently
# badged copy of the server's endpoint.

using M = import "/manifest.capnp";

const manifest :M.Manifest = (
  name = "ipc",
  blobs = [(name = "ipc", data = embed "../../build/wasm/ipc.wasm")],
  init = (
    binary = "ipc",
    argv = ["init"],
    caps = [
      (name = "console", source = (kernel = console)),
      (name = "spawner", source = (kernel = processSpawner)),
      (name = "boot", source = (kernel = bootPackage)),
      (name = "endpoints", source = (kernel = endpointFactory)),
    ],
  ),
  children = [
    ( binary = "ipc", argv = ["ipc-server"],
      caps = [
        (name = "console", source = (fromParent = (name = "console", mode = copy))),
        (name = "endpoint", source = (fromParent = (name = "endpoint", mode = move))),
      ] ),
    ( binary = "ipc", argv = ["ipc-client", "1"],
      caps = [
        (name = "console", source = (fromParent = (name = "console", mode = copy))),
        (name = "server", source = (fromParent = (name = "client-1", mode = move))),
      ] ),
    ( binary = "ipc", argv = ["ipc-client", "2"],
      caps = [
        (name = "console", source = (fromParent = (name = "console", mode = copy))),
        (name = "server", source = (fromParent = (name = "client-2", mode = move))),
      ] ),
  ],
);
