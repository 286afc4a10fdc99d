#!/usr/bin/env bash
# Installs what make dist and make dist-test need, when it is missing, on a fresh
# Debian machine: Debian packages (as root, or through sudo), rustup targets and
# rust-src, zig from PyPI and three cargo tools from crates.io. The last two go under
# target/tools, so a rerun finds them and `make clean` removes them.
# Usage: packaging/tools.sh [build|test|all]   (default all)
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
tools=$PWD/target/tools

# Pinned, so that two machines build the same bytes.
ZIG_VERSION=0.15.2
ZIGBUILD_VERSION=0.24.1
DEB_VERSION=3.8.0
RPM_VERSION=0.21.1

say() { echo "tools: $*" >&2; }

# --- Debian packages -------------------------------------------------------------
need=()
want() { command -v "$1" >/dev/null || need+=("$2"); }
if [ "$what" != test ]; then
  want musl-gcc musl-tools                       # x86_64: C compiler and linker for ring
  want aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu   # aarch64: the same
  want file file                                 # checks "statically linked"
fi
if [ "$what" != build ]; then
  want qemu-aarch64-static qemu-user-static      # runs the ARM binaries
  want rpm rpm                                   # rpm -qlp on the packages
  want dpkg-deb dpkg
  want zsh zsh                                   # syntax check of the completions
  want fish fish
  want bash bash
fi
if ((${#need[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  say "apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
[ "$what" = test ] && exit 0

# --- Rust: targets with a std from rustup, and rust-src for armv7 (-Z build-std) ---
installed=$(rustup target list --installed)
for t in x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
  grep -qx "$t" <<<"$installed" || rustup target add "$t"
done
rustup component list --installed | grep -q '^rust-src' || rustup component add rust-src

# --- zig (PyPI's ziglang wheel carries the zig binary and musl for every arch) ------
if [ "$("$tools/ziglang/ziglang/zig" version 2>/dev/null)" != "$ZIG_VERSION" ]; then
  say "pip install ziglang==$ZIG_VERSION into target/tools/ziglang"
  rm -rf "$tools/ziglang"
  python3 -m pip install -q --disable-pip-version-check --no-deps \
    --target "$tools/ziglang" "ziglang==$ZIG_VERSION"
fi

# --- cargo tools, built once into target/tools/bin ------------------------------
cargo_tool() { # crate version binary
  if ! "$tools/bin/$3" --version 2>/dev/null | grep -qF "$2"; then
    say "cargo install $1@$2 into target/tools"
    cargo install --locked --quiet --root "$tools" "$1@$2"
  fi
}
cargo_tool cargo-zigbuild "$ZIGBUILD_VERSION" cargo-zigbuild
cargo_tool cargo-deb "$DEB_VERSION" cargo-deb
cargo_tool cargo-generate-rpm "$RPM_VERSION" cargo-generate-rpm
