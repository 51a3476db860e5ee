#!/usr/bin/env python3
"""`wasmtime run` for the WASI differential suite, on PyPI's wasmtime (Python API).

PyPI has no wasmtime CLI, only the library, so this script gives it the CLI's shape:

    wasmtime-run.py [--dir HOST[::GUEST]]... [--env KEY=VALUE]... [--timeout SECONDS]
                    [--trap-unknown-imports] FILE.wasm [ARGS...]

which is also exactly `capos run`'s, so the suite drives both the same way. As with the CLI:
argv[0] is FILE.wasm as given, stdio is inherited, a --dir without ::GUEST is preopened under
its host path, the exit status is the proc_exit code (0 when _start returns), a trap prints
its message on stderr and exits 134 (128 + SIGABRT, as the CLI does on Unix). The other
statuses are `capos run`'s: 124 when --timeout expires, 64 for a usage error or a file that is
not a WebAssembly module, 127 for a module that cannot start (compile, link, no `_start`).
"""

import argparse
import os
import sys
import threading

import wasmtime

EXIT_TRAP = 134
EXIT_TIMEOUT = 124
EXIT_USAGE = 64
EXIT_CANNOT_START = 127


def usage_error(message):
    sys.stderr.write(f"wasmtime-run.py: {message}\n")
    sys.exit(EXIT_USAGE)


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        usage_error(message)


def parse_args(argv):
    parser = ArgumentParser(prog="wasmtime-run.py", description=__doc__.splitlines()[0])
    parser.add_argument("--dir", action="append", default=[], metavar="HOST[::GUEST]")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--timeout", type=float, metavar="SECONDS")
    parser.add_argument("--trap-unknown-imports", action="store_true")
    parser.add_argument("wasm", metavar="FILE.wasm")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    return parser.parse_args(argv)


def wasi_config(opts):
    config = wasmtime.WasiConfig()
    config.argv = [opts.wasm, *opts.args]
    env = []
    for pair in opts.env:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            usage_error(f"--env wants KEY=VALUE, got {pair!r}")
        env.append((key, value))
    config.env = env
    for spec in opts.dir:
        host, sep, guest = spec.partition("::")
        if not os.path.isdir(host):
            usage_error(f"--dir {spec!r}: {host!r} is not a directory")
        config.preopen_dir(host, guest if sep else host)
    config.inherit_stdin()
    config.inherit_stdout()
    config.inherit_stderr()
    return config


def run(opts):
    engine_config = wasmtime.Config()
    # Compiled code is cached under $HOME/.cache/wasmtime: Go modules take seconds to compile.
    engine_config.cache = True
    engine = wasmtime.Engine(engine_config)
    try:
        with open(opts.wasm, "rb") as file:
            binary = file.read()
    except OSError as err:
        usage_error(f"cannot read {opts.wasm}: {err.strerror}")
    if not binary.startswith(b"\0asm"):
        usage_error(f"{opts.wasm} is not a WebAssembly module")
    try:
        module = wasmtime.Module(engine, binary)
    except wasmtime.WasmtimeError as err:
        sys.stderr.write(f"wasmtime-run.py: {opts.wasm} cannot start: {err}\n")
        return EXIT_CANNOT_START
    store = wasmtime.Store(engine)
    store.set_wasi(wasi_config(opts))
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    if opts.trap_unknown_imports:
        linker.define_unknown_imports_as_traps(module)
    try:
        instance = linker.instantiate(store, module)
        start = instance.exports(store)["_start"]
    except (KeyError, wasmtime.WasmtimeError) as err:
        sys.stderr.write(f"wasmtime-run.py: {opts.wasm} cannot start: {err}\n")
        return EXIT_CANNOT_START
    try:
        start(store)
    except wasmtime.ExitTrap as exit_trap:
        return exit_trap.code
    except (wasmtime.Trap, wasmtime.WasmtimeError) as trap:
        sys.stderr.write(f"Error: failed to run main module `{opts.wasm}`\n\nCaused by:\n    {trap}\n")
        return EXIT_TRAP
    return 0


def main():
    opts = parse_args(sys.argv[1:])
    if opts.timeout is not None:
        # A guest blocked in a host call (stdin, poll_oneoff) never reaches an epoch check,
        # so the deadline ends the whole process instead.
        def expire():
            sys.stderr.write(f"wasmtime-run.py: timed out after {opts.timeout:g} s\n")
            sys.stderr.flush()
            os._exit(EXIT_TIMEOUT)

        timer = threading.Timer(opts.timeout, expire)
        timer.daemon = True
        timer.start()
    sys.exit(run(opts))


if __name__ == "__main__":
    main()
