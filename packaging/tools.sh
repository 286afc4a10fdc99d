#!/usr/bin/env bash
# Everything the build, the tests, make dist and make dist-test need, in one place,
# installed when missing on a fresh Debian 12 machine: Debian packages (as root, or
# through sudo), PyPI and npm packages, rustup targets, components and toolchains, and
# cargo tools. docs/development.md's "What CI installs" lists the same; tests/docs.rs checks that
# every Debian package named here is named there.
#
# Every package is named: installs use --no-install-recommends, so nothing arrives as
# a Recommends that one machine happens to have and another lacks (the aarch64 C
# library headers, libc6-dev-arm64-cross, are only a Recommends of
# gcc-aarch64-linux-gnu: a machine without them cannot build ring for aarch64).
#
# Usage: packaging/tools.sh [ci|build|test|all]   (default all)
#   build  what make dist needs        test  what make dist-test needs
#   all    build + test (make tools)   ci    all + what make test and .ci/run need
# zig (PyPI) and the cargo tools go under target/tools, so a rerun finds them and
# `make clean` removes them.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
case $what in ci | build | test | all) ;; *) echo "usage: $0 [ci|build|test|all]" >&2; exit 2 ;; esac
tools=$PWD/target/tools

# Pinned, so that two machines build the same bytes.
ZIG_VERSION=0.15.2
ZIGBUILD_VERSION=0.24.1
DEB_VERSION=3.8.0
RPM_VERSION=0.21.1
FUZZ_VERSION=$(sed -n 's/^CARGO_FUZZ_VERSION = //p' Makefile)   # the Makefile's, one place
PYYAML_VERSION=6.0.3
RUST_VERSION=$(sed -n 's/^rust-version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)

say() { echo "tools: $*" >&2; }
wants() { [ "$what" = all ] || [ "$what" = ci ] || [ "$what" = "$1" ]; }

# --- Debian packages, each for a reason ------------------------------------------------
# make test, the empty-root, recipe and interop tests (.ci/run):
CI_DEBS=(
  musl-tools                # musl-gcc: make static compiles ring's C for x86_64 musl
  file                      # checks that a binary is "statically linked"
  groff-base                # renders the man page without warnings
  squid                     # the proxy of the interop tests
  openssl                   # the squid tests' htpasswd hash; the recipes' key pair
  curl                      # the print-form and recipe tests pipe the token into curl
  ca-certificates           # the system CA bundle the default trust reads
  util-linux                # setpriv, unshare (tests as another uid, the empty root)
  procps                    # kill, for the fault tests' signals
  g++                       # cargo-fuzz's libFuzzer (C++) for make fuzz
  etcd-server               # etcd: the 3-member clusters of tests/etcd.rs, make etcd-demo
  etcd-client               # etcdctl: the etcd tests seed, read and break the cluster
)
# make dist:
BUILD_DEBS=(
  musl-tools                # x86_64: C compiler and linker for ring
  gcc-aarch64-linux-gnu     # aarch64: compiles ring's C and assembly, drives the link
  binutils-aarch64-linux-gnu  # aarch64-linux-gnu-ar, -ld
  libc6-dev-arm64-cross     # the aarch64 C headers ring's C includes (a Recommends only)
  file                      # checks "statically linked"
)
# armv7 needs no Debian compiler: zig (PyPI) compiles ring and brings musl's headers.
# make dist-test:
TEST_DEBS=(
  qemu-user-static          # runs the aarch64 and armv7 binaries and test suite
  rpm                       # rpm -K and rpm -qlp on the packages
  dpkg                      # dpkg-deb and dpkg -i of the .deb
  bash zsh fish             # the completions must parse in each
)

debs=()
wants ci && debs+=("${CI_DEBS[@]}")
wants build && debs+=("${BUILD_DEBS[@]}")
wants test && debs+=("${TEST_DEBS[@]}")
installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }
need=()
for p in "${debs[@]}"; do
  installed "$p" || [[ " ${need[*]} " == *" $p "* ]] || need+=("$p")
done
if ((${#need[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  say "apt-get install --no-install-recommends ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# --- Rust: rustup components, targets and toolchains -----------------------------------
components=()
targets=()
wants ci && components+=(rustfmt clippy) && targets+=(x86_64-unknown-linux-musl)
# Every static target builds std from rust-src (packaging/build.sh); aarch64 also
# takes musl's crt objects and libc.a from rustup's target.
wants build && components+=(rust-src) && targets+=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl)
have_components=$(rustup component list --installed)
for c in "${components[@]}"; do
  grep -q "^$c" <<<"$have_components" || rustup component add "$c"
done
have_targets=$(rustup target list --installed)
for t in "${targets[@]}"; do
  grep -qx "$t" <<<"$have_targets" || rustup target add "$t"
done
# make msrv-check: the oldest toolchain Cargo.toml's rust-version promises.
if wants ci && ! rustup toolchain list | grep -q "^$RUST_VERSION"; then
  rustup toolchain install "$RUST_VERSION" --profile minimal
fi

# --- PyPI and npm (make test's interop tests, the recipe test) ------------------------
if wants ci; then
  python3 -c 'import yaml' 2>/dev/null ||
    python3 -m pip install -q --disable-pip-version-check "pyyaml==$PYYAML_VERSION"
  # The interop tests' OAuth server: django-oauth-toolkit under gunicorn, pinned.
  python3 tests/interop/pinned.py ||
    python3 -m pip install -q --disable-pip-version-check -r tests/interop/requirements.txt
  # oidc-provider for tests/oidc.rs (npm ci from its package-lock.json).
  make --no-print-directory oidc-deps
fi

# --- zig (PyPI's ziglang wheel carries the zig binary and musl for every arch) ----------
if wants build && [ "$("$tools/ziglang/ziglang/zig" version 2>/dev/null)" != "$ZIG_VERSION" ]; then
  say "pip install ziglang==$ZIG_VERSION into target/tools/ziglang"
  rm -rf "$tools/ziglang"
  python3 -m pip install -q --disable-pip-version-check --no-deps \
    --target "$tools/ziglang" "ziglang==$ZIG_VERSION"
fi

# --- cargo tools, built once into target/tools/bin -----------------------------------
cargo_tool() { # crate version binary
  if ! "$tools/bin/$3" --version 2>/dev/null | grep -qF "$2"; then
    say "cargo install $1@$2 into target/tools"
    cargo install --locked --quiet --root "$tools" "$1@$2"
  fi
}
if wants build; then
  cargo_tool cargo-zigbuild "$ZIGBUILD_VERSION" cargo-zigbuild
  cargo_tool cargo-deb "$DEB_VERSION" cargo-deb
  cargo_tool cargo-generate-rpm "$RPM_VERSION" cargo-generate-rpm
fi
if wants ci; then
  cargo_tool cargo-fuzz "$FUZZ_VERSION" cargo-fuzz
fi
