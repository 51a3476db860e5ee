@0xb567fd5d248d81ec;
# fetch: init is the policy process. It holds Fetch (any URL), mints an
# HttpEndpoint bound to origin A and hands it to one child; the other child
# gets nothing that reaches the network. Origins A and B are loopback servers
# beside the site (`capos serve` starts them; the site lists them at
# /demo-http/origins.json): A sends CORS headers, B does not.

using M = import "/manifest.capnp";

const manifest :M.Manifest = (
  name = "fetch",
  blobs = [(name = "fetch", data = embed "../../build/wasm/fetch.wasm")],
  init = (
    binary = "fetch",
    argv = ["init"],
    caps = [
      (name = "console", source = (kernel = console)),
      (name = "spawner", source = (kernel = processSpawner)),
      (name = "boot", source = (kernel = bootPackage)),
      (name = "fetch", source = (kernel = fetch)),
    ],
  ),
  children = [
    ( binary = "fetch", argv = ["fetch-client"],
      caps = [
        (name = "console", source = (fromParent = (name = "console", mode = copy))),
        (name = "origin-a", source = (fromParent = (name = "origin-a", mode = move))),
      ] ),
    ( binary = "fetch", argv = ["fetch-nothing"],
      caps = [
        (name = "console", source = (fromParent = (name = "console", mode = copy))),
      ] ),
  ],
);
