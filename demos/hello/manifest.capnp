@0xc599e8b7c4f4fc0e;
# The `hello` demo: init greets through its Console and exits 0.

using M = import "/manifest.capnp";

const manifest :M.Manifest = (
  name = "hello",
  blobs = [(name = "hello", data = embed "../../build/wasm/hello.wasm")],
  init = (
    binary = "hello",
    argv = ["init"],
    caps = [(name = "console", source = (kernel = console))],
  ),
);
