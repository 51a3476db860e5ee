# capOS for the browser. `make run` builds and serves the demo page;
# `make test` runs every test. Both install what they need first.

SHELL := /bin/bash
.DEFAULT_GOAL := run

TARGET_DIR ?= $(or $(CARGO_TARGET_DIR),target)
WASM_OUT   := $(TARGET_DIR)/wasm32-unknown-unknown/release
CAPOS      := $(TARGET_DIR)/release/capos
SITE       := build/site
PORT       ?= 8420
DEMO       ?= hello

# Every demo is a crate under demos/NAME with a manifest.capnp beside it.
DEMOS      := $(notdir $(patsubst %/manifest.capnp,%,$(wildcard demos/*/manifest.capnp)))
DEMO_PKGS  := $(addprefix -p demo-,$(DEMOS))

export CARGO_TERM_QUIET := true
# `$(UPDATE) FROM TO`: copies a file (or a tree) unless TO already holds the same bytes.
UPDATE     := scripts/update-tree.sh
# The capos binary serves this checkout, even when cargo builds in a shared target dir.
export CAPOS_ROOT := $(CURDIR)

.PHONY: run test build prereqs boot lint unit wasm-check loom e2e bench profile soak fuzz fuzz-smoke clean
.PHONY: wasi-programs wasi-test-programs wasi-test runtimes

# WASI preview1 programs (wasm32-wasip1): the demos in demos/wasi/ -> build/wasi/, and the
# differential suite's programs in tests/wasi/ -> build/wasi-tests/. Go and the reference
# runtime (wasmtime) live in build/venv, installed by scripts/install-prereqs.sh.
WASI_RUST_OUT  := $(TARGET_DIR)/wasm32-wasip1/release
# --strip-debug: Debian's wasi-libc carries DWARF that would quintuple every C module.
WASI_CC        := clang --target=wasm32-wasi -O2 -Wall -Wextra -Werror -Wl,--strip-debug
VENV_GO        := $(CURDIR)/build/venv/bin/go
WASI_TEST_C    := $(basename $(notdir $(wildcard tests/wasi/c/*.c)))
WASI_TEST_RUST := $(basename $(notdir $(wildcard tests/wasi/rust/src/bin/*.rs)))
# The differential suite holds `capos run` to the specification; set CAPOS_RUN= (empty) to run
# the reference alone.
CAPOS_RUN      ?= $(abspath $(CAPOS)) run

prereqs:
	@scripts/install-prereqs.sh

build: prereqs wasi-programs runtimes
	cargo build --release --target wasm32-unknown-unknown -p capos-kernel-wasm -p capos-wasi $(DEMO_PKGS)
	cargo build --release --target wasm32-unknown-unknown -p ring-tests-js
	@mkdir -p $(SITE)/pkg $(SITE)/manifests $(SITE)/generated $(SITE)/ring-tests build/wasm build/bindgen
	wasm-bindgen --target web --no-typescript --out-dir build/bindgen $(WASM_OUT)/capos_kernel_wasm.wasm
	@# Only what changed is replaced: capos embeds the site, and rebuilds when a file of it is touched.
	@$(UPDATE) build/bindgen $(CURDIR)/$(SITE)/pkg
	@$(UPDATE) $(WASM_OUT)/capos_wasi.wasm $(SITE)/pkg/capos_wasi.wasm
	@for d in $(DEMOS); do $(UPDATE) $(WASM_OUT)/demo_$${d//-/_}.wasm build/wasm/$$d.wasm; done
	@for d in $(DEMOS); do \
	  capnp eval --binary -I schema demos/$$d/manifest.capnp manifest > build/manifest.bin.tmp && \
	  $(UPDATE) build/manifest.bin.tmp $(SITE)/manifests/$$d.bin || exit 1; \
	done
	cargo run --release -q -p capos-config --bin export-abi > build/abi.js.tmp
	@$(UPDATE) build/abi.js.tmp $(SITE)/generated/abi.js
	@$(UPDATE) ring-tests-js/web $(CURDIR)/$(SITE)/ring-tests
	@$(UPDATE) $(WASM_OUT)/ring_tests_js.wasm $(SITE)/ring-tests/ring_tests_js.wasm
	@# Last: capos carries the finished site (capos-cli/build.rs).
	cargo build --release -p capos-cli
	@echo "built: kernel, demos ($(DEMOS)), capos CLI"

run: build
	$(CAPOS) serve --port $(PORT)

boot: build
	$(CAPOS) boot $(DEMO)

lint: prereqs
	cargo fmt --all -- --check
	cargo fmt --all --manifest-path demos/wasi/Cargo.toml -- --check
	cargo fmt --all --manifest-path tests/wasi/rust/Cargo.toml -- --check
	cargo fmt --all --manifest-path demos/bench-compute/Cargo.toml -- --check
	cargo fmt --all --manifest-path runtimes/Cargo.toml -- --check
	cargo fmt --all --manifest-path fuzz/Cargo.toml -- --check
	$(RUNTIME_CC_ENV) cargo clippy --manifest-path runtimes/Cargo.toml -p qjs -p capos-http --target wasm32-wasip1 --target-dir $(TARGET_DIR) -- -D warnings
	cargo clippy --manifest-path demos/wasi/Cargo.toml --target wasm32-wasip1 --target-dir $(TARGET_DIR) -- -D warnings
	cargo clippy --manifest-path tests/wasi/rust/Cargo.toml --target wasm32-wasip1 --target-dir $(TARGET_DIR) -- -D warnings
	cargo clippy --manifest-path demos/bench-compute/Cargo.toml --target wasm32-wasip1 --target-dir $(TARGET_DIR) -- -D warnings
	gofmt="$$(GOTOOLCHAIN=local $(VENV_GO) env GOROOT)/bin/gofmt" && \
	  unformatted="$$(cd demos/wasi && "$$gofmt" -l go-tour polyglot-go)" && \
	  { test -z "$$unformatted" || { echo "gofmt would reformat: $$unformatted"; exit 1; }; }
	for p in go-tour polyglot-go; do \
	  (cd demos/wasi/$$p && GOOS=wasip1 GOARCH=wasm GOTOOLCHAIN=local $(VENV_GO) vet .) || exit 1; \
	done
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p capos-wasi --features harness -- -D warnings
	cargo clippy --manifest-path fuzz/Cargo.toml --target-dir $(TARGET_DIR)/fuzz-lint --all-targets -- -D warnings
	cargo clippy --target wasm32-unknown-unknown -p capos-kernel-wasm -p capos-rt -p capos-wasi -p ring-tests-js $(DEMO_PKGS) -- -D warnings

unit: prereqs
	cargo test --workspace
	$(RUNTIME_TEST_ENV) cargo test --release --manifest-path runtimes/Cargo.toml -p qjs --target wasm32-wasip1 --target-dir $(TARGET_DIR)
	node --test tests/web/

wasm-check: prereqs
	cargo build --target wasm32-unknown-unknown -p capos-config -p capos-lib -p capos-rt

# `capos run` in the tests goes through the warm daemon; it is stopped after them, pass or fail.
STOP_DAEMON := $(abspath $(CAPOS)) daemon stop >/dev/null

e2e: build wasi-test-programs
	CAPOS_BIN=$(abspath $(CAPOS)) node --test --test-concurrency=1 tests/e2e/; \
	  status=$$?; $(STOP_DAEMON); exit $$status

loom: prereqs
	cargo test -p capos-config --release --test ring_loom

test: lint unit wasm-check loom fuzz-smoke e2e wasi-test

# Coverage-guided fuzzing (fuzz/, libFuzzer): each target for FUZZ_SECONDS; prints executions and
# crashes per target. `make test` runs each for a few seconds.
FUZZ_SECONDS ?= 60
fuzz: prereqs
	scripts/fuzz.sh $(FUZZ_SECONDS)

fuzz-smoke: prereqs
	scripts/fuzz.sh 5

wasi-programs: prereqs
	cargo build --release --target wasm32-wasip1 --manifest-path demos/wasi/Cargo.toml --target-dir $(TARGET_DIR)
	@mkdir -p build/wasi
	cp $(WASI_RUST_OUT)/rust-tour.wasm $(WASI_RUST_OUT)/echo-lines.wasm $(WASI_RUST_OUT)/polyglot-rust.wasm \
	  $(WASI_RUST_OUT)/static-server.wasm build/wasi/
	$(WASI_CC) demos/wasi/c-tour/c-tour.c -o build/wasi/c-tour.wasm
	$(WASI_CC) demos/wasi/c-server/c-server.c -o build/wasi/c-server.wasm
	$(WASI_CC) demos/wasi/polyglot-c/polyglot-c.c -o build/wasi/polyglot-c.wasm
	for p in go-tour polyglot-go; do \
	  (cd demos/wasi/$$p && GOOS=wasip1 GOARCH=wasm GOTOOLCHAIN=local \
	    $(VENV_GO) build -trimpath -o $(CURDIR)/build/wasi/$$p.wasm .) || exit 1; \
	done

# The language runtimes (runtimes/: QuickJS as `qjs`, RustPython as `python`), built for
# wasm32-wasip1 and put in the site's runtime catalogue, precompressed. rquickjs compiles
# quickjs-ng with Debian's clang and wasi-libc (no wasi-sdk download). RustPython's first build
# takes minutes; it lives in the cargo target dir, outside the clone. --ignore-rust-version:
# RustPython 0.6.0's ruff crates declare a newer Rust than they need; they build on this one.
RUNTIME_CC_ENV := RQUICKJS_SYS_NO_WASI_SDK=1 CC_wasm32_wasip1=clang AR_wasm32_wasip1=llvm-ar \
  CFLAGS_wasm32_wasip1="--target=wasm32-wasi -isystem /usr/include/wasm32-wasi"
# The qjs unit tests run under the reference WASI runtime.
# The runtimes import capos_http (fetch), which wasmtime does not provide: such calls trap.
RUNTIME_TEST_ENV := $(RUNTIME_CC_ENV) \
  CARGO_TARGET_WASM32_WASIP1_RUNNER="$(CURDIR)/build/venv/bin/python $(CURDIR)/tests/wasi/wasmtime-run.py --trap-unknown-imports"
runtimes: prereqs
	$(RUNTIME_CC_ENV) cargo build --release --target wasm32-wasip1 --ignore-rust-version \
	  --manifest-path runtimes/Cargo.toml --target-dir $(TARGET_DIR)
	node scripts/runtime-catalogue.mjs $(WASI_RUST_OUT) $(SITE)/runtimes

wasi-test-programs: prereqs
	cargo build --release --target wasm32-wasip1 --manifest-path tests/wasi/rust/Cargo.toml --target-dir $(TARGET_DIR)
	@mkdir -p build/wasi-tests
	@for p in $(WASI_TEST_RUST); do cp $(WASI_RUST_OUT)/$$p.wasm build/wasi-tests/ || exit 1; done
	@for p in $(WASI_TEST_C); do \
	  echo "$(WASI_CC) tests/wasi/c/$$p.c"; \
	  $(WASI_CC) tests/wasi/c/$$p.c -o build/wasi-tests/$$p.wasm || exit 1; \
	done

# The differential suite, and the official WASI testsuite (WASI_TESTSUITE=DIR, default
# ../shared/wasi-testsuite; skipped with a note when absent).
wasi-test: build wasi-test-programs
	CAPOS_RUN="$(CAPOS_RUN)" CAPOS_BIN=$(abspath $(CAPOS)) node --test --test-concurrency=1 tests/wasi/ tests/wasi-testsuite/; \
	  status=$$?; $(STOP_DAEMON); exit $$status

bench: build
	cargo build --release --target wasm32-wasip1 --manifest-path demos/bench-compute/Cargo.toml --target-dir $(TARGET_DIR)
	@mkdir -p $(SITE)/bench
	$(UPDATE) $(TARGET_DIR)/wasm32-wasip1/release/bench-compute.wasm $(SITE)/bench/bench-compute.wasm
	cargo build --release --manifest-path demos/wasi/Cargo.toml -p static-server --target-dir $(TARGET_DIR)
	CAPOS_BIN=$(abspath $(CAPOS)) CAPOS_NATIVE_STATIC_SERVER=$(abspath $(TARGET_DIR))/release/static-server \
	  node capos-cli/driver/bench.mjs

# 1,000 spawn/exit cycles and 100 processes at once: the kernel's counts and the live Workers
# before and after (target/bench/soak.json); fails if anything was left behind.
soak: build
	CAPOS_BIN=$(abspath $(CAPOS)) node capos-cli/driver/soak.mjs

# Where the time goes: V8's sampling profiler on the kernel and every process
# Worker while the `bench` manifest runs (or PROFILE_MANIFEST=name).
profile: build
	CAPOS_BIN=$(abspath $(CAPOS)) node capos-cli/driver/profile.mjs $(or $(PROFILE_MANIFEST),bench)

clean:
	rm -rf build
	cargo clean
