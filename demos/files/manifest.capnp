@0xb3f6c9a2d4e81f07;
# files: init holds /home, a persistent directory (the browser's Origin
# Private File System, store "files-demo", limited to 1 MiB). It logs each
# visit there and syncs it, lists it, and writes past the quota (ENOSPC);
# then a Python child, given the same /home, meets the quota through WASI.
# Reload the page: the log is one visit longer. The file browser (the page's
# "files" button) shows the store as it changes.

using M = import "/manifest.capnp";

const manifest :M.Manifest = (
  name = "files",
  blobs = [
    (name = "files", data = embed "../../build/wasm/files.wasm"),
    (name = "python", runtime = "python"),
  ],
  mounts = [
    ( guest = "/home",
      store = "files-demo",
      quotaBytes = 1048576,
      root = (directory = [(name = "README.txt", file = embed "README.txt")]) ),
    (guest = "/scripts", root = (directory = [(name = "quota.py", file = embed "scripts/quota.py")])),
  ],
  init = (
    binary = "files",
    argv = ["init"],
    caps = [
      (name = "console", source = (kernel = console)),
      (name = "stderr", source = (kernel = stderr)),
      (name = "home", source = (mount = 0)),
      (name = "scripts", source = (mount = 1)),
      (name = "spawner", source = (kernel = processSpawner)),
      (name = "boot", source = (kernel = bootPackage)),
      (name = "timer", source = (kernel = timer)),
      (name = "random", source = (kernel = random)),
    ],
  ),
  children = [
    # RustPython needs an fd 0, so it gets the console as its input too.
    ( binary = "python", argv = ["python", "/scripts/quota.py"],
      caps = [
        (name = "stdin", source = (fromParent = (name = "console", mode = copy))),
        (name = "stdout", source = (fromParent = (name = "console", mode = copy))),
        (name = "stderr", source = (fromParent = (name = "stderr", mode = copy))),
        (name = "timer", source = (fromParent = (name = "timer", mode = copy))),
        (name = "random", source = (fromParent = (name = "random", mode = copy))),
        (name = "home", source = (fromParent = (name = "home", mode = copy))),
        (name = "scripts", source = (fromParent = (name = "scripts", mode = move))),
      ] ),
  ],
);
