@0xbe6e3fec740e41dd;
# Test-only: init asks the kernel to panic through KernelPanicTrigger, to
# prove a kernel panic is shown plainly and tears every Worker down.

using M = import "/manifest.capnp";

const manifest :M.Manifest = (
  name = "kernel-panic",
  blobs = [(name = "kernel-panic", data = embed "../../build/wasm/kernel-panic.wasm")],
  init = (
    binary = "kernel-panic",
    argv = ["init"],
    caps = [
      (name = "console", source = (kernel = console)),
      (name = "panic", source = (kernel = kernelPanicTrigger)),
    ],
  ),
);
