#!/usr/bin/env bash
# Fetches the real Debian inputs the tests use into .cache/fixtures/debian/ with `apt-get download` and
# `dpkg-deb` (no package is installed, no maintainer script runs):
#   systemd-boot-efi        → .cache/fixtures/debian/systemd-boot-efi/usr/lib/systemd/boot/efi/*.efi.stub
#   linux-image-cloud-amd64 → .cache/fixtures/debian/linux-image-cloud-amd64/boot/vmlinuz-*
#     (a metapackage: its linux-image-<abi>-cloud-amd64 dependency is the package actually fetched)
# Idempotent and quiet: a package already unpacked is not fetched again. Fails clearly when offline.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST="$PWD/.cache/fixtures/debian"
mkdir -p "$DEST"

die() { echo "fixtures: $*" >&2; exit 1; }
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || die "needs apt-get and dpkg-deb (Debian)"

# The package apt would download for NAME; refreshes the package lists once if it has no candidate.
candidate() {
  local v
  v=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')
  if { [ -z "$v" ] || [ "$v" = "(none)" ]; } && [ "$(id -u)" = 0 ] && [ -z "${UPDATED-}" ]; then
    UPDATED=1
    apt-get update -qq >/dev/null 2>&1 || die "apt-get update failed (offline?)"
    v=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')
  fi
  { [ -n "$v" ] && [ "$v" != "(none)" ]; } || die "no candidate for $1 in the apt lists (run apt-get update)"
  echo "$v"
}

# fetch NAME PACKAGE [PATHS...]: unpacks PACKAGE (all of it, or only the given ./paths) into $DEST/NAME.
fetch() {
  local name=$1 pkg=$2; shift 2
  local dir="$DEST/$name" version
  [ -f "$dir/.package" ] && return 0
  version=$(candidate "$pkg")
  echo "fixtures: fetching $pkg $version"
  tmp=$(mktemp -d "$DEST/.tmp.XXXXXX")
  # apt's sandbox user cannot write into a root-owned temp dir; downloading as root is what we want here.
  (cd "$tmp" && apt-get download -q=2 -o APT::Sandbox::User=root "$pkg=$version" >/dev/null 2>"$tmp/err") ||
    die "cannot download $pkg $version (offline?): $(tail -n1 "$tmp/err")"
  local deb; deb=$(ls "$tmp"/*.deb)
  mkdir -p "$tmp/pkg"
  if [ $# -eq 0 ]; then
    dpkg-deb -x "$deb" "$tmp/pkg"
  else
    # Only the named paths (a kernel package is mostly modules the tests never read).
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/pkg" "$@"
  fi
  echo "$pkg $version" >"$tmp/pkg/.package"
  rm -rf "$dir"
  mv "$tmp/pkg" "$dir"
  rm -rf "$tmp"
}
tmp=
trap 'rm -rf "${tmp:-/nonexistent}"' EXIT

fetch systemd-boot-efi systemd-boot-efi
[ -f "$DEST/linux-image-cloud-amd64/.package" ] && exit 0
kernel_pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')
[ -n "$kernel_pkg" ] || die "cannot resolve linux-image-cloud-amd64 to a linux-image-*-cloud-amd64 package"
fetch linux-image-cloud-amd64 "$kernel_pkg" ./boot
