@0xe4c1a7b9d2f35086;
# webserver: init is granted four ports and moves each Listener to a
# server: static-server (Rust, WASI) serves /site on 8080, c-server (C) answers
# on 8081, a JavaScript handler in QuickJS on 8082 and a Python one in
# RustPython on 8083. The page's preview pane shows them: each request
# reaches a server as a connection, through a ServiceWorker and the kernel.
# A port is a capability: no server could listen on another.

using M = import "/manifest.capnp";

const manifest :M.Manifest = (
  name = "webserver",
  blobs = [
    (name = "webserver", data = embed "../../build/wasm/webserver.wasm"),
    (name = "static-server", data = embed "../../build/wasi/static-server.wasm"),
    (name = "c-server", data = embed "../../build/wasi/c-server.wasm"),
    (name = "qjs", runtime = "qjs"),
    (name = "python", runtime = "python"),
  ],
  mounts = [
    (guest = "/site", root = (directory = [
      (name = "index.html", file = embed "site/index.html"),
      (name = "style.css", file = embed "site/style.css"),
      (name = "about.txt", file = embed "site/about.txt"),
      (name = "kib.txt", file = embed "site/kib.txt"),
    ])),
    (guest = "/app", root = (directory = [
      (name = "hello.js", file = embed "handlers/hello.js"),
      (name = "hello.py", file = embed "handlers/hello.py"),
    ])),
  ],
  init = (
    binary = "webserver",
    argv = ["webserver"],
    caps = [
      (name = "console", source = (kernel = console)),
      (name = "stderr", source = (kernel = stderr)),
      (name = "timer", source = (kernel = timer)),
      (name = "random", source = (kernel = random)),
      (name = "http", source = (listen = 8080)),
      (name = "http-c", source = (listen = 8081)),
      (name = "http-js", source = (listen = 8082)),
      (name = "http-py", source = (listen = 8083)),
      (name = "site", source = (mount = 0)),
      (name = "app", source = (mount = 1)),
      (name = "spawner", source = (kernel = processSpawner)),
      (name = "boot", source = (kernel = bootPackage)),
    ],
  ),
  children = [
    ( binary = "static-server", argv = ["static-server", "/site"],
      caps = [
        (name = "stdout", source = (fromParent = (name = "console", mode = copy))),
        (name = "stderr", source = (fromParent = (name = "stderr", mode = copy))),
        (name = "timer", source = (fromParent = (name = "timer", mode = copy))),
        (name = "random", source = (fromParent = (name = "random", mode = copy))),
        (name = "http", source = (fromParent = (name = "http", mode = move))),
        (name = "site", source = (fromParent = (name = "site", mode = move))),
      ] ),
    ( binary = "c-server", argv = ["c-server"],
      caps = [
        (name = "stdout", source = (fromParent = (name = "console", mode = copy))),
        (name = "stderr", source = (fromParent = (name = "stderr", mode = copy))),
        (name = "timer", source = (fromParent = (name = "timer", mode = copy))),
        (name = "random", source = (fromParent = (name = "random", mode = copy))),
        (name = "http", source = (fromParent = (name = "http-c", mode = move))),
      ] ),
    ( binary = "qjs", argv = ["qjs", "/app/hello.js"],
      caps = [
        (name = "stdout", source = (fromParent = (name = "console", mode = copy))),
        (name = "stderr", source = (fromParent = (name = "stderr", mode = copy))),
        (name = "timer", source = (fromParent = (name = "timer", mode = copy))),
        (name = "random", source = (fromParent = (name = "random", mode = copy))),
        (name = "app", source = (fromParent = (name = "app", mode = copy))),
        (name = "http", source = (fromParent = (name = "http-js", mode = move))),
      ] ),
    # RustPython needs an fd 0, so it gets the console as its input too.
    ( binary = "python", argv = ["python", "/app/hello.py"],
      caps = [
        (name = "stdin", source = (fromParent = (name = "console", mode = copy))),
        (name = "stdout", source = (fromParent = (name = "console", mode = copy))),
        (name = "stderr", source = (fromParent = (name = "stderr", mode = copy))),
        (name = "timer", source = (fromParent = (name = "timer", mode = copy))),
        (name = "random", source = (fromParent = (name = "random", mode = copy))),
        (name = "app", source = (fromParent = (name = "app", mode = move))),
        (name = "http", source = (fromParent = (name = "http-py", mode = move))),
      ] ),
  ],
);
