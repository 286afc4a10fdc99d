#!/usr/bin/env bash
# Builds the static, stripped release binary for one target and checks it: `file`
# must say statically linked and stripped, for the target's machine, and it must fit
# the 2 MiB budget. Prints the binary's path on stdout.
# Usage: packaging/build.sh TARGET      (make static, make dist)
#
# How each target is built (packaging/tools.sh installs what they need):
#   x86_64-unknown-linux-musl       rustup's std; musl-gcc (musl-tools) compiles
#                                   ring's C and assembly
#   aarch64-unknown-linux-musl      rustup's std, which carries musl's crt objects and
#                                   libc.a; Debian's aarch64-linux-gnu-gcc compiles
#                                   ring and links (.cargo/config.toml)
#   armv7-unknown-linux-musleabihf  rustup has no std for it here (its download is a
#                                   404), so std is built from the rust-src component
#                                   with -Z build-std, allowed on the stable toolchain
#                                   by RUSTC_BOOTSTRAP=1; cargo zigbuild compiles ring
#                                   and links with zig (PyPI's ziglang), which brings
#                                   musl for ARM
# Same source, same bytes: no timestamps go in, SFREFRESH_COMMIT is fixed (from git
# unless set), and the machine-specific paths that panic messages carry are remapped.
set -euo pipefail
cd "$(dirname "$0")/.."
t=${1:?usage: packaging/build.sh TARGET}
TOOLS=${TOOLS:-$PWD/target/tools}
export PATH="$TOOLS/bin:$TOOLS/ziglang/ziglang:$PATH"
export SFREFRESH_COMMIT=${SFREFRESH_COMMIT:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}
MAX_SIZE=2097152

cargo_home=${CARGO_HOME:-$HOME/.cargo}
sysroot=$(rustc --print sysroot)
rustc_hash=$(rustc -vV | sed -n 's/^commit-hash: //p')
remap="\"--remap-path-prefix=$cargo_home=/cargo\", \"--remap-path-prefix=$sysroot/lib/rustlib/src/rust=/rustc/$rustc_hash\""
# --config adds these to the target's rustflags from .cargo/config.toml (arrays join).
flags=(--release --locked --target "$t" --config "target.$t.rustflags = [$remap]")
case $t in
  x86_64-unknown-linux-musl) machine="x86-64" ;;
  aarch64-unknown-linux-musl) machine="ARM aarch64" ;;
  armv7-unknown-linux-musleabihf) machine="ARM, EABI5" ;;
  *) echo "build: unknown target $t" >&2; exit 2 ;;
esac

case $t in
  armv7-*)
    command -v cargo-zigbuild >/dev/null && command -v zig >/dev/null ||
      { echo "build: $t needs zig and cargo-zigbuild: run packaging/tools.sh" >&2; exit 1; }
    RUSTC_BOOTSTRAP=1 cargo zigbuild "${flags[@]}" -Z build-std=std,panic_abort >&2 ;;
  *) cargo build "${flags[@]}" >&2 ;;
esac

bin=$(cargo metadata --format-version 1 --no-deps --locked |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/$t/release/sfrefresh
what=$(file -b "$bin")
case $what in
  *"statically linked"*"$machine"* | *"$machine"*"statically linked"*) ;;
  *) echo "build: $t: not a static binary for $machine: $what" >&2; exit 1 ;;
esac
case $what in *", stripped"*) ;; *) echo "build: $t: not stripped: $what" >&2; exit 1 ;; esac
size=$(stat -c %s "$bin")
echo "build: $t: $size bytes ($(awk "BEGIN{printf \"%.2f\", $size/1048576}") MiB, budget 2 MiB): $what" >&2
[ "$size" -le $MAX_SIZE ] || { echo "build: $t: over the 2 MiB budget" >&2; exit 1; }
echo "$bin"
