# sfrefresh: `make` builds, `make test` is what CI runs, `make demo` shows it working.
CARGO  ?= cargo
PREFIX ?= /usr/local
BINDIR  = $(DESTDIR)$(PREFIX)/bin
MANDIR  = $(DESTDIR)$(PREFIX)/share/man/man1
SHAREDIR = $(DESTDIR)$(PREFIX)/share

VERSION      := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' Cargo.toml | head -n1)
RUST_VERSION := $(shell sed -n 's/^rust-version = "\(.*\)"$$/\1/p' Cargo.toml | head -n1)
STATIC_TARGET = x86_64-unknown-linux-musl
TARGETS       = x86_64-unknown-linux-musl aarch64-unknown-linux-musl armv7-unknown-linux-musleabihf
# The release target that runs on this machine, for make install.
UNAME_M      := $(shell uname -m)
HOST_TARGET  := $(strip $(or $(if $(filter x86_64,$(UNAME_M)),x86_64-unknown-linux-musl), \
	$(if $(filter aarch64 arm64,$(UNAME_M)),aarch64-unknown-linux-musl), \
	$(if $(filter armv7l armv8l,$(UNAME_M)),armv7-unknown-linux-musleabihf)))
HOST_ARCHIVE  = dist/sfrefresh-$(VERSION)-$(HOST_TARGET).tar.gz
# make dist builds everything twice (the second time from a copy of the source in
# another directory, into an empty target directory) and compares: REPRO=0 skips that.
REPRO ?= 1
# The date and commit every release file carries (build.rs, archives, packages).
export SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
export SFREFRESH_COMMIT  ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

.PHONY: build test demo etcd-demo fake-salesforce static empty-root-test recipes-test bench install clean \
	oidc-deps tools dist dist-test msrv-check fuzz

build:
	$(CARGO) build --release --locked

test:
	$(CARGO) fmt --check
	$(CARGO) clippy --locked --all-targets -- -D warnings
	$(CARGO) test --locked

# Each cargo-fuzz target (fuzz/fuzz_targets/) for FUZZ_SECONDS; a crash, a panic or
# an input slower than 10 s fails. On the one stable toolchain: --sanitizer none needs
# no nightly flag, and the code fuzzed is safe Rust (the only unsafe, src/sys.rs's libc
# calls, is not reached from the targets). Seeds are read from fuzz/corpus/<target>,
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

# Three "hosts" sharing one token family in a local 3-member etcd cluster (docs/etcd.md).
etcd-demo: build fake-salesforce
	sh examples/etcd-demo.sh target/release/sfrefresh $(FAKE_SALESFORCE)

# A fully static, stripped x86_64 Linux binary at dist/sfrefresh (musl + rustls/ring),
# built as make dist builds it. Needs: rustup target add x86_64-unknown-linux-musl;
# apt-get install musl-tools.
static:
	@rustup target list --installed 2>/dev/null | grep -qx $(STATIC_TARGET) || \
		rustup target add $(STATIC_TARGET)
	@command -v musl-gcc >/dev/null || \
		{ echo "make static: musl-gcc is missing: apt-get install -y musl-tools" >&2; exit 1; }
	mkdir -p dist
	bin=$$(packaging/build.sh $(STATIC_TARGET)) && cp "$$bin" dist/sfrefresh
	@file dist/sfrefresh

# The static binary refreshes a token in a chroot holding only itself, a CA and the file.
empty-root-test: static fake-salesforce
	python3 tests/empty_root.py dist/sfrefresh $(FAKE_SALESFORCE)

# Every recipe in examples/ops, tried against the fake Salesforce over TLS on loopback.
recipes-test: static fake-salesforce
	python3 tests/recipes.py dist/sfrefresh $(FAKE_SALESFORCE)

# Median wall time and peak RSS against nginx on loopback (installs nginx-light if missing),
# with the floor contender (bench/floor, its own Cargo package) built static the same way.
FLOOR = bench/floor/target/$(STATIC_TARGET)/release/floor
bench: static
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || \
		DEBIAN_FRONTEND=noninteractive apt-get install -y nginx-light
	@command -v etcd >/dev/null || \
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends etcd-server etcd-client
	$(CARGO) build --release --target $(STATIC_TARGET) --manifest-path bench/floor/Cargo.toml
	python3 bench/run.py --bin dist/sfrefresh --floor $(FLOOR)

# What make dist and make dist-test need (Debian packages, rustup targets, rust-src,
# zig, cargo-zigbuild, cargo-deb, cargo-generate-rpm), installed when missing.
tools:
	packaging/tools.sh all

# The release: static binaries for $(TARGETS), their archives, .deb and .rpm packages
# and SHA256SUMS in dist/; then the same again from a copy, compared byte for byte.
dist:
	packaging/tools.sh build
	packaging/dist.sh dist
ifneq ($(REPRO),0)
	@set -e; scratch=$$(mktemp -d); trap 'rm -rf "$$scratch"' EXIT; \
	echo "== reproducibility: building again in $$scratch/sfrefresh" >&2; \
	mkdir "$$scratch/sfrefresh"; \
	tar --exclude=./target --exclude=./dist --exclude=./.git -cf - . | tar -C "$$scratch/sfrefresh" -xf -; \
	CARGO_TARGET_DIR="$$scratch/target" TOOLS="$(CURDIR)/target/tools" \
		"$$scratch/sfrefresh/packaging/dist.sh" "$$scratch/dist"; \
	if cmp -s dist/SHA256SUMS "$$scratch/dist/SHA256SUMS"; then \
		echo "make dist: reproducible: the second build made the same bytes (dist/SHA256SUMS)" >&2; \
	else \
		echo "make dist: NOT reproducible: the two builds differ:" >&2; \
		diff dist/SHA256SUMS "$$scratch/dist/SHA256SUMS" >&2; exit 1; \
	fi
endif

# The released artifacts at work: the checksums verify; the whole integration suite and
# the empty-root test run against each target's binary from its archive (the ARM ones
# under qemu-user); the amd64 .deb is installed and run (as root), and the contents
# and metadata of every .deb and .rpm are checked.
dist-test: fake-salesforce
	packaging/tools.sh test
	packaging/dist-test.sh dist

# rust-version in Cargo.toml is the oldest toolchain that builds the code.
msrv-check:
	rustup toolchain list | grep -q '^$(RUST_VERSION)' || \
		rustup toolchain install $(RUST_VERSION) --profile minimal
	CARGO_TARGET_DIR=target/msrv $(CARGO) +$(RUST_VERSION) check --locked --all-targets
	@echo "msrv-check: builds with Rust $(RUST_VERSION)"

# Installs the static binary from dist/ when make dist made one for this machine,
# otherwise target/release/sfrefresh (built now); then the man page and completions.
install:
	install -d $(BINDIR)
	@if [ -n "$(HOST_TARGET)" ] && [ -f "$(HOST_ARCHIVE)" ]; then \
		echo "install: the static $(HOST_TARGET) binary from $(HOST_ARCHIVE)"; \
		tar -xzOf "$(HOST_ARCHIVE)" "sfrefresh-$(VERSION)-$(HOST_TARGET)/sfrefresh" >"$(BINDIR)/.sfrefresh.new" && \
		chmod 0755 "$(BINDIR)/.sfrefresh.new" && mv -f "$(BINDIR)/.sfrefresh.new" "$(BINDIR)/sfrefresh"; \
	else \
		echo "install: no $(HOST_ARCHIVE): target/release/sfrefresh"; \
		$(MAKE) --no-print-directory build && \
		install -m 0755 target/release/sfrefresh $(BINDIR)/sfrefresh; \
	fi
	install -d $(MANDIR)
	install -m 0644 sfrefresh.1 $(MANDIR)/sfrefresh.1
	install -d $(SHAREDIR)/bash-completion/completions $(SHAREDIR)/zsh/site-functions \
		$(SHAREDIR)/fish/vendor_completions.d
	install -m 0644 completions/sfrefresh.bash $(SHAREDIR)/bash-completion/completions/sfrefresh
	install -m 0644 completions/_sfrefresh $(SHAREDIR)/zsh/site-functions/_sfrefresh
	install -m 0644 completions/sfrefresh.fish $(SHAREDIR)/fish/vendor_completions.d/sfrefresh.fish

clean:
	$(CARGO) clean
	rm -rf dist
