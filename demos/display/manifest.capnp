@0xf893a21f0d87653c;
# display: init draws Conway's Life on the Display capability (a canvas on
# the page), 640x480, a frame per generation, until GENERATIONS frames or the
# person closes the display; then it tries the Clipboard, which the page may
# refuse.

using M = import "/manifest.capnp";

const manifest :M.Manifest = (
  name = "display",
  blobs = [(name = "display", data = embed "../../build/wasm/display.wasm")],
  init = (
    binary = "display",
    argv = ["init", "300"],
    caps = [
      (name = "console", source = (kernel = console)),
      (name = "timer", source = (kernel = timer)),
      (name = "display", source = (kernel = display)),
      (name = "clipboard", source = (kernel = clipboard)),
    ],
  ),
);
