# sfrefresh: `make` builds, `make test` is what CI runs, `make demo` shows it working.
CARGO  ?= cargo
PREFIX ?= /usr/local
BINDIR  = $(DESTDIR)$(PREFIX)/bin

STATIC_TARGET = x86_64-unknown-linux-musl
MAX_SIZE      = 2097152
MANDIR        = $(DESTDIR)$(PREFIX)/share/man/man1

.PHONY: build test demo fake-salesforce static empty-root-test recipes-test bench install clean oidc-deps fuzz

build:
	$(CARGO) build --release --locked

test:
	$(CARGO) fmt --check
	$(CARGO) clippy --locked --all-targets -- -D warnings
	$(CARGO) test --locked

# Each cargo-fuzz target (fuzz/fuzz_targets/) for FUZZ_SECONDS; a crash, a panic or
# an input slower than 10 s fails. On the one stable toolchain: --sanitizer none needs
# no nightly flag, and the crate is safe Rust. Seeds are read from fuzz/corpus/<target>,
# what the fuzzer adds goes to target/fuzz-corpus/<target>, a crash to fuzz/artifacts/;
# the build is in target/fuzz, so everything but a crash is under target/.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS  = token_file answer no_proxy
CARGO_FUZZ    = target/tools/bin/cargo-fuzz
CARGO_FUZZ_VERSION = 0.13.2

fuzz: $(CARGO_FUZZ)
	$(CARGO_FUZZ) build --sanitizer none --target-dir target/fuzz
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p target/fuzz-corpus/$$t; \
		echo "make fuzz: $$t for $(FUZZ_SECONDS) s"; \
		RUST_LIB_BACKTRACE=0 $(CARGO_FUZZ) run --sanitizer none --target-dir target/fuzz $$t \
			target/fuzz-corpus/$$t fuzz/corpus/$$t -- \
			-max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1 \
			> target/fuzz-$$t.log 2>&1 || { \
			grep -v -e '^#[0-9]' -e '^INFO:' -e '^WARNING:' target/fuzz-$$t.log | tail -n 80 >&2; \
			echo "make fuzz: $$t failed; whole log: target/fuzz-$$t.log" >&2; exit 1; }; \
		grep -e '^Done' -e '^stat::number_of_executed_units' -e '^stat::new_units_added' \
			target/fuzz-$$t.log; \
	done

# cargo-fuzz from crates.io, built once into target/tools (about 25 s) and reused.
$(CARGO_FUZZ):
	$(CARGO) install cargo-fuzz --version $(CARGO_FUZZ_VERSION) --locked --root target/tools

# Node packages for the interop tests against oidc-provider (tests/oidc.rs): npm ci,
# only when package-lock.json changed since the last install. Without them those
# tests print SKIPPED (and fail under CI=true). Needs Node.js 20 or later and npm.
OIDC = tests/oidc
oidc-deps:
	@command -v npm >/dev/null || \
		{ echo "make oidc-deps: npm is missing (Node.js 20 or later)" >&2; exit 1; }
	@cmp -s $(OIDC)/package-lock.json $(OIDC)/node_modules/.installed-package-lock.json || { \
		npm ci --prefix $(OIDC) --no-audit --no-fund --loglevel=error && \
		cp $(OIDC)/package-lock.json $(OIDC)/node_modules/.installed-package-lock.json; }

# The fake Salesforce (tests/fake_salesforce.rs as a program) for the demo and script tests.
FAKE_SALESFORCE = target/release/examples/fake_salesforce

fake-salesforce:
	$(CARGO) build --release --locked --example fake_salesforce

demo: build fake-salesforce
	sh examples/demo.sh target/release/sfrefresh $(FAKE_SALESFORCE)

# A fully static, stripped x86_64 Linux binary at dist/sfrefresh (musl + rustls/ring).
# Needs: rustup target add x86_64-unknown-linux-musl; apt-get install musl-tools.
static:
	@rustup target list --installed 2>/dev/null | grep -qx $(STATIC_TARGET) || \
		rustup target add $(STATIC_TARGET)
	@command -v musl-gcc >/dev/null || \
		{ echo "make static: musl-gcc is missing: apt-get install -y musl-tools" >&2; exit 1; }
	$(CARGO) build --release --locked --target $(STATIC_TARGET)
	mkdir -p dist
	cp target/$(STATIC_TARGET)/release/sfrefresh dist/sfrefresh
	@file dist/sfrefresh
	@size=$$(stat -c %s dist/sfrefresh); \
		echo "dist/sfrefresh: $$size bytes ($$(awk "BEGIN{printf \"%.2f\", $$size/1048576}") MiB, budget 2 MiB)"; \
		test $$size -le $(MAX_SIZE) || { echo "make static: over the 2 MiB budget" >&2; exit 1; }

# The static binary refreshes a token in a chroot holding only itself, a CA and the file.
empty-root-test: static fake-salesforce
	python3 tests/empty_root.py dist/sfrefresh $(FAKE_SALESFORCE)

# Every recipe in examples/ops, tried against the fake Salesforce over TLS on loopback.
recipes-test: static fake-salesforce
	python3 tests/recipes.py dist/sfrefresh $(FAKE_SALESFORCE)

# Median wall time and peak RSS against nginx on loopback (installs nginx-light if missing).
bench: static
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || \
		DEBIAN_FRONTEND=noninteractive apt-get install -y nginx-light
	python3 bench/run.py --bin dist/sfrefresh

install: build
	install -d $(BINDIR)
	install -m 0755 target/release/sfrefresh $(BINDIR)/sfrefresh
	install -d $(MANDIR)
	install -m 0644 sfrefresh.1 $(MANDIR)/sfrefresh.1

clean:
	$(CARGO) clean
	rm -rf dist
