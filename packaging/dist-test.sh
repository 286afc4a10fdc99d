#!/usr/bin/env bash
# Tests the release in DIST (default dist/) as a user and a packager would meet it:
#  1. SHA256SUMS verifies;
#  2. for each target, the binary from its archive runs the whole integration suite
#     (tests/tests.rs, built for this machine, spawning that binary through
#     SFREFRESH_TEST_BIN, under qemu-user for ARM through SFREFRESH_TEST_RUNNER) and
#     the empty-root test;
#  3. each .deb and .rpm has the right name, version, architecture and files, and
#     carries the same binary as the archive; the .deb for this machine is installed
#     with dpkg -i, run, and purged again (as root; otherwise that step is skipped).
# Usage: packaging/dist-test.sh [DIST]    (make dist-test; after make dist)
set -euo pipefail
cd "$(dirname "$0")/.."
dist=$(cd "${1:-dist}" && pwd)
TARGETS=${TARGETS:-x86_64-unknown-linux-musl aarch64-unknown-linux-musl armv7-unknown-linux-musleabihf}
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "dist-test: FAILED: $*" >&2; exit 1; }
say() { echo "dist-test: $*" >&2; }

(cd "$dist" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not verify"
say "SHA256SUMS verifies"

# The files every package must hold, besides the binary.
files=(/usr/bin/sfrefresh /usr/share/bash-completion/completions/sfrefresh
  /usr/share/fish/vendor_completions.d/sfrefresh.fish /usr/share/doc/sfrefresh/README.md
  /usr/share/doc/sfrefresh/CHANGELOG.md)
machine=$(dpkg --print-architecture 2>/dev/null || echo unknown)

for t in $TARGETS; do
  case $t in
    x86_64-*) runner="" deb=amd64 rpm=x86_64 ;;
    aarch64-*) runner=$(command -v qemu-aarch64-static) deb=arm64 rpm=aarch64 ;;
    armv7-*) runner=$(command -v qemu-arm-static) deb=armhf rpm=armv7hl ;;
  esac
  [ "$t" = x86_64-unknown-linux-musl ] || [ -n "$runner" ] ||
    fail "$t: no qemu-user-static emulator (apt-get install qemu-user-static)"
  name=sfrefresh-$version-$t
  tar -C "$work" -xzf "$dist/$name.tar.gz"
  bin=$work/$name/sfrefresh
  for f in sfrefresh sfrefresh.1 README.md CHANGELOG.md LICENSE LICENSE-MIT LICENSE-APACHE \
    completions/sfrefresh.bash completions/_sfrefresh completions/sfrefresh.fish; do
    [ -f "$work/$name/$f" ] || fail "$name.tar.gz lacks $f"
  done
  v=$($runner "$bin" --version) || fail "$t: --version failed"
  say "$t: $v${runner:+ (under ${runner##*/})}"

  say "$t: the integration suite against $name/sfrefresh${runner:+ under ${runner##*/}}"
  SFREFRESH_TEST_BIN=$bin SFREFRESH_TEST_RUNNER=$runner cargo test --locked --test integration
  say "$t: the empty-root test"
  SFREFRESH_TEST_RUNNER=$runner python3 tests/empty_root.py "$bin" target/release/examples/fake_salesforce

  # The .deb: metadata, files, and the archive's very binary.
  debfile=$dist/sfrefresh_$version-1_$deb.deb
  [ -f "$debfile" ] || fail "no $debfile"
  [ "$(dpkg-deb -f "$debfile" Package Version Architecture | tr '\n' ' ')" = \
    "Package: sfrefresh Version: $version-1 Architecture: $deb " ] ||
    fail "$debfile: $(dpkg-deb -f "$debfile" Package Version Architecture)"
  [ -z "$(dpkg-deb -f "$debfile" Depends)" ] ||
    fail "$debfile: a static binary should depend on nothing: $(dpkg-deb -f "$debfile" Depends)"
  listing=$(dpkg-deb -c "$debfile" | awk '{print substr($6, 2)}')
  for f in "${files[@]}" /usr/share/man/man1/sfrefresh.1.gz /usr/share/doc/sfrefresh/copyright \
    /usr/share/zsh/vendor-completions/_sfrefresh; do
    grep -qx "$f" <<<"$listing" || fail "$debfile lacks $f"
  done
  dpkg-deb --fsys-tarfile "$debfile" | tar -xOf - ./usr/bin/sfrefresh | cmp -s - "$bin" ||
    fail "$debfile: /usr/bin/sfrefresh is not the archive's binary"
  say "$t: ${debfile##*/}: $deb, $(grep -c . <<<"$listing") entries, same binary"

  # The .rpm: the same.
  rpmfile=$dist/sfrefresh-$version-1.$rpm.rpm
  [ -f "$rpmfile" ] || fail "no $rpmfile"
  rpm -K --quiet "$rpmfile" >/dev/null || fail "$rpmfile: digests do not verify"
  got=$(rpm -qp --qf '%{NAME} %{VERSION} %{ARCH} %{LICENSE}' "$rpmfile")
  [ "$got" = "sfrefresh $version $rpm MIT OR Apache-2.0" ] || fail "$rpmfile: $got"
  listing=$(rpm -qlp "$rpmfile")
  for f in "${files[@]}" /usr/share/man/man1/sfrefresh.1 /usr/share/licenses/sfrefresh/LICENSE \
    /usr/share/zsh/site-functions/_sfrefresh; do
    grep -qx "$f" <<<"$listing" || fail "$rpmfile lacks $f"
  done
  digest=$(rpm -qp --qf '[%{FILENAMES} %{FILEDIGESTS}\n]' "$rpmfile" | sed -n 's|^/usr/bin/sfrefresh ||p')
  [ "$digest" = "$(sha256sum <"$bin" | cut -d' ' -f1)" ] ||
    fail "$rpmfile: /usr/bin/sfrefresh is not the archive's binary"
  say "$t: ${rpmfile##*/}: $rpm, $(grep -c . <<<"$listing") files, same binary"

  # The package for this machine, installed for real.
  if [ "$deb" = "$machine" ]; then
    if [ "$(id -u)" -ne 0 ]; then
      say "$t: not root: dpkg -i skipped"
    elif dpkg -s sfrefresh >/dev/null 2>&1 || [ -e /usr/bin/sfrefresh ]; then
      say "$t: sfrefresh is already installed on this machine: dpkg -i skipped"
    else
      dpkg -i "$debfile" >/dev/null
      trap 'dpkg -P sfrefresh >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
      out=$(cd / && /usr/bin/sfrefresh --version) || fail "installed sfrefresh --version failed"
      [ "$out" = "$v" ] || fail "installed: $out, expected $v"
      for f in "${files[@]}" /usr/share/man/man1/sfrefresh.1.gz; do
        [ -e "$f" ] || fail "dpkg -i did not install $f"
      done
      dpkg -L sfrefresh | grep -qx /usr/bin/sfrefresh || fail "dpkg -L does not list the binary"
      dpkg -P sfrefresh >/dev/null
      [ ! -e /usr/bin/sfrefresh ] || fail "dpkg -P left /usr/bin/sfrefresh"
      say "$t: dpkg -i ${debfile##*/}: /usr/bin/sfrefresh runs ($out); dpkg -P removes it"
    fi
  fi
done
say "all targets passed: $TARGETS"
