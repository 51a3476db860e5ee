@0x8338e2b15bbf46e4;
# denied: a child without a Console tries CapIds it guessed or saw; all refused.

using M = import "/manifest.capnp";

const manifest :M.Manifest = (
  name = "denied",
  blobs = [(name = "denied", data = embed "../../build/wasm/denied.wasm")],
  init = (
    binary = "denied",
    argv = ["init"],
    caps = [
      (name = "console", source = (kernel = console)),
      (name = "spawner", source = (kernel = processSpawner)),
      (name = "boot", source = (kernel = bootPackage)),
      (name = "endpoints", source = (kernel = endpointFactory)),
    ],
  ),
  children = [
    ( binary = "denied", argv = ["leaker"],
      caps = [
        (name = "console", source = (fromParent = (name = "console", mode = copy))),
        (name = "report", source = (fromParent = (name = "report-1", mode = move))),
      ] ),
    ( binary = "denied", argv = ["denied"],
      caps = [
        (name = "report", source = (fromParent = (name = "report-2", mode = move))),
      ] ),
  ],
);
