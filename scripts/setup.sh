#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian 12 machine: npm packages (pinned by
# package-lock.json) and, when running as root, the Debian tools the tests use.
# Idempotent: does nothing that is already done. Quiet unless it installs something.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests and demo use: command to probe → package providing it.
DEBIAN_TOOLS=(
  "clang:clang"
  "llvm-objdump:llvm"
  "llvm-readelf:llvm"
  "llvm-mc:llvm"
  "bpftool:bpftool"
  "cpio:cpio"
  "gzip:gzip"
  "bzip2:bzip2"
  "xz:xz-utils"
  "lzma:xz-utils"
  "zstd:zstd"
  "lz4:lz4"
  "lzop:lzop"
  "sbsign:sbsigntool"
  "sbverify:sbsigntool"
  "osslsigncode:osslsigncode"
  "objdump:binutils"
  "llvm-readobj:llvm"
  "openssl:openssl"
  "qemu-system-x86_64:qemu-system-x86"
  "busybox:busybox-static"
)

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages (exact versions from package-lock.json)"
  # Not `npm ci`: it insists that the lock lists every platform's optional binary package (biome's for
  # Windows/macOS/musl), which the registry we install from does not carry. `npm install --no-save`
  # installs the locked versions and leaves the lock alone. node-gyp builds against the system's Node
  # headers (zstd-napi builds from source); never download them.
  npm_config_nodedir=/usr npm install --no-save --no-audit --no-fund --loglevel=error
fi

missing=()
for entry in "${DEBIAN_TOOLS[@]}"; do
  cmd="${entry%%:*}"; pkg="${entry##*:}"
  if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ]; then
    [[ " ${missing[*]-} " == *" $pkg "* ]] || missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: not root (or no apt-get): tests needing ${missing[*]} will be skipped by name" >&2
  fi
fi

# Real Debian inputs (systemd-boot-efi stub, a signed kernel) for the format tests; offline is not fatal.
scripts/fixtures.sh || echo "setup: Debian fixtures unavailable; tests needing them will be skipped by name" >&2
