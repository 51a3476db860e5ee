@0xb3f6c9a2d4e81f07;
# files: init holds /home, a persistent directory (the browser's Origin
# Private File System, store "files-demo", limited to 1 MiB). It logs each
# visit there and syncs it, lists it, and writes past the quota (ENOSPC).
# Reload the page: the log is one visit longer. The file browser (the page's
# "files" button) shows the store as it changes.

using M = import "/manifest.capnp";

const manifest :M.Manifest = (
  name = "files",
  blobs = [(name = "files", data = embed "../../build/wasm/files.wasm")],
  mounts = [(
    guest = "/home",
    store = "files-demo",
    quotaBytes = 1048576,
    root = (directory = [(name = "README.txt", file = embed "README.txt")]),
  )],
  init = (
    binary = "files",
    argv = ["init"],
    caps = [
      (name = "console", source = (kernel = console)),
      (name = "home", source = (mount = 0)),
    ],
  ),
);
