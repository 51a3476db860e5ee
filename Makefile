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
# The capos binary serves this checkout, even when cargo builds in a shared target dir.
export CAPOS_ROOT := $(CURDIR)

.PHONY: run test build prereqs boot lint unit wasm-check loom e2e bench clean

prereqs:
	@scripts/install-prereqs.sh

build: prereqs
	cargo build --release --target wasm32-unknown-unknown -p capos-kernel-wasm -p capos-wasi $(DEMO_PKGS)
	cargo build --release -p capos-cli
	@mkdir -p $(SITE)/pkg $(SITE)/manifests $(SITE)/generated build/wasm
	wasm-bindgen --target web --no-typescript --out-dir $(SITE)/pkg $(WASM_OUT)/capos_kernel_wasm.wasm
	cp $(WASM_OUT)/capos_wasi.wasm $(SITE)/pkg/capos_wasi.wasm
	@for d in $(DEMOS); do cp $(WASM_OUT)/demo_$${d//-/_}.wasm build/wasm/$$d.wasm; done
	@for d in $(DEMOS); do \
	  capnp eval --binary -I schema demos/$$d/manifest.capnp manifest > $(SITE)/manifests/$$d.bin.tmp && \
	  mv $(SITE)/manifests/$$d.bin.tmp $(SITE)/manifests/$$d.bin || exit 1; \
	done
	$(CAPOS) export-abi > $(SITE)/generated/abi.js
	cargo build --release --target wasm32-unknown-unknown -p ring-tests-js
	@mkdir -p $(SITE)/ring-tests
	cp ring-tests-js/web/* $(WASM_OUT)/ring_tests_js.wasm $(SITE)/ring-tests/
	@echo "built: kernel, demos ($(DEMOS)), capos CLI"

run: build
	$(CAPOS) serve --port $(PORT)

boot: build
	$(CAPOS) boot $(DEMO)

lint: prereqs
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy --target wasm32-unknown-unknown -p capos-kernel-wasm -p capos-rt $(DEMO_PKGS) -- -D warnings

unit: prereqs
	cargo test --workspace

wasm-check: prereqs
	cargo build --target wasm32-unknown-unknown -p capos-config -p capos-lib -p capos-rt

e2e: build
	CAPOS_BIN=$(abspath $(CAPOS)) node --test --test-concurrency=1 tests/e2e/

loom: prereqs
	cargo test -p capos-config --release --test ring_loom

test: lint unit wasm-check loom e2e

bench: build
	CAPOS_BIN=$(abspath $(CAPOS)) node capos-cli/driver/bench.mjs

clean:
	rm -rf build
	cargo clean
