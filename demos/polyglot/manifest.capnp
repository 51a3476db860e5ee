@0xa4c1e2f3b5d60718;
# polyglot: init spawns a Rust, a Go, a C, a JavaScript and a Python program at
# once. Each child is granted only its own prefixed Console pair, the Timer,
# randomness, and one Directory of its own as /data (and Python the input too) (the JavaScript and Python
# ones find their script there). JavaScript and Python run on the catalogue's
# runtimes, which the kernel Worker loads and checks by SHA-256.

using M = import "/manifest.capnp";

const manifest :M.Manifest = (
  name = "polyglot",
  blobs = [
    (name = "polyglot", data = embed "../../build/wasm/polyglot.wasm"),
    (name = "polyglot-rust", data = embed "../../build/wasi/polyglot-rust.wasm"),
    (name = "polyglot-go", data = embed "../../build/wasi/polyglot-go.wasm"),
    (name = "polyglot-c", data = embed "../../build/wasi/polyglot-c.wasm"),
    (name = "qjs", runtime = "qjs"),
    (name = "python", runtime = "python"),
  ],
  mounts = [
    (guest = "/data", root = (directory = [])),
    (guest = "/data", root = (directory = [])),
    (guest = "/data", root = (directory = [])),
    (guest = "/data", root = (directory = [(name = "polyglot.js", file = embed "scripts/polyglot.js")])),
    (guest = "/data", root = (directory = [(name = "polyglot.py", file = embed "scripts/polyglot.py")])),
  ],
  init = (
    binary = "polyglot",
    argv = ["init"],
    caps = [
      (name = "console", source = (kernel = console)),
      (name = "stderr", source = (kernel = stderr)),
      (name = "spawner", source = (kernel = processSpawner)),
      (name = "boot", source = (kernel = bootPackage)),
      (name = "timer", source = (kernel = timer)),
      (name = "random", source = (kernel = random)),
      (name = "dir-rust", source = (mount = 0)),
      (name = "dir-go", source = (mount = 1)),
      (name = "dir-c", source = (mount = 2)),
      (name = "dir-js", source = (mount = 3)),
      (name = "dir-python", source = (mount = 4)),
    ],
  ),
  children = [
    ( binary = "polyglot-rust", argv = ["polyglot-rust"],
      caps = [
        (name = "stdout", source = (fromParent = (name = "stdout-rust", mode = move))),
        (name = "stderr", source = (fromParent = (name = "stderr-rust", mode = move))),
        (name = "timer", source = (fromParent = (name = "timer", mode = copy))),
        (name = "random", source = (fromParent = (name = "random", mode = copy))),
        (name = "data", source = (fromParent = (name = "dir-rust", mode = move))),
      ] ),
    ( binary = "polyglot-go", argv = ["polyglot-go"],
      caps = [
        (name = "stdout", source = (fromParent = (name = "stdout-go", mode = move))),
        (name = "stderr", source = (fromParent = (name = "stderr-go", mode = move))),
        (name = "timer", source = (fromParent = (name = "timer", mode = copy))),
        (name = "random", source = (fromParent = (name = "random", mode = copy))),
        (name = "data", source = (fromParent = (name = "dir-go", mode = move))),
      ] ),
    ( binary = "polyglot-c", argv = ["polyglot-c"],
      caps = [
        (name = "stdout", source = (fromParent = (name = "stdout-c", mode = move))),
        (name = "stderr", source = (fromParent = (name = "stderr-c", mode = move))),
        (name = "timer", source = (fromParent = (name = "timer", mode = copy))),
        (name = "random", source = (fromParent = (name = "random", mode = copy))),
        (name = "data", source = (fromParent = (name = "dir-c", mode = move))),
      ] ),
    ( binary = "qjs", argv = ["qjs", "/data/polyglot.js"],
      caps = [
        (name = "stdout", source = (fromParent = (name = "stdout-js", mode = move))),
        (name = "stderr", source = (fromParent = (name = "stderr-js", mode = move))),
        (name = "timer", source = (fromParent = (name = "timer", mode = copy))),
        (name = "random", source = (fromParent = (name = "random", mode = copy))),
        (name = "data", source = (fromParent = (name = "dir-js", mode = move))),
      ] ),
    # RustPython cannot start without an fd 0 (sys.stdin fails "essential initialization" when
    # it is EBADF, where CPython would set it to None), so Python is also given the input.
    ( binary = "python", argv = ["python", "/data/polyglot.py"],
      caps = [
        (name = "stdin", source = (fromParent = (name = "console", mode = copy))),
        (name = "stdout", source = (fromParent = (name = "stdout-python", mode = move))),
        (name = "stderr", source = (fromParent = (name = "stderr-python", mode = move))),
        (name = "timer", source = (fromParent = (name = "timer", mode = copy))),
        (name = "random", source = (fromParent = (name = "random", mode = copy))),
        (name = "data", source = (fromParent = (name = "dir-python", mode = move))),
      ] ),
  ],
);
