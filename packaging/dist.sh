#!/usr/bin/env bash
# Builds the release into OUT (default dist/): for each target the static binary
# (packaging/build.sh), the archive sfrefresh-VERSION-TARGET.tar.gz (binary, man page,
# README, CHANGELOG, licenses, completions), a .deb and an .rpm; then OUT/SHA256SUMS.
# Usage: packaging/dist.sh [OUT]
# Environment: TARGETS (default: all three), CARGO_TARGET_DIR, SOURCE_DATE_EPOCH and
# SFREFRESH_COMMIT (default: from git; make dist sets them so that a copy of the
# source outside git builds the same bytes), TOOLS (default: target/tools).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mkdir -p "${1:-dist}" && cd "${1:-dist}" && pwd)
TARGETS=${TARGETS:-x86_64-unknown-linux-musl aarch64-unknown-linux-musl armv7-unknown-linux-musleabihf}
export TOOLS=${TOOLS:-$PWD/target/tools}
export PATH="$TOOLS/bin:$PATH"
# One date and one commit for every file of the release: the commit's own date.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
export SFREFRESH_COMMIT=${SFREFRESH_COMMIT:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
stage_root=$(mktemp -d)
trap 'rm -rf "$stage_root"' EXIT

rm -f "$out"/sfrefresh[-_]*.tar.gz "$out"/sfrefresh[-_]*.deb "$out"/sfrefresh-*.rpm "$out/SHA256SUMS"
for t in $TARGETS; do
  echo "== $t" >&2
  bin=$(packaging/build.sh "$t")
  tdir=${bin%/"$t"/release/sfrefresh}

  # The archive: one directory; fixed order, owner, modes and times; gzip without
  # the name and time of its input.
  name=sfrefresh-$version-$t
  stage=$stage_root/$name
  mkdir -p "$stage/completions"
  install -m 0755 "$bin" "$stage/sfrefresh"
  install -m 0644 sfrefresh.1 README.md CHANGELOG.md LICENSE LICENSE-MIT LICENSE-APACHE "$stage/"
  install -m 0644 completions/sfrefresh.bash completions/_sfrefresh completions/sfrefresh.fish \
    "$stage/completions/"
  tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
    --format=gnu -C "$stage_root" -cf - "$name" | gzip -9n >"$out/$name.tar.gz"

  # The packages hold the binary just built: no second build, no second strip.
  # Metadata and file lists: [package.metadata.deb] and [package.metadata.generate-rpm].
  cargo deb --quiet --no-build --no-strip --target "$t" --output "$out/" >/dev/null
  arch=(); case $t in armv7-*) arch=(--arch armv7hl) ;; esac  # rpm's name for ARMv7 hard-float
  cargo generate-rpm --target "$t" --target-dir "$tdir" "${arch[@]}" --auto-req disabled \
    --payload-compress xz --output "$out/"
done

(cd "$out" && sha256sum -- sfrefresh[-_]*.tar.gz sfrefresh[-_]*.deb sfrefresh-*.rpm >SHA256SUMS)
echo "dist: in $out:" >&2
(cd "$out" && ls -l -- *.tar.gz *.deb *.rpm SHA256SUMS) >&2
