#!/usr/bin/env bash
# `make demo`: a signed UKI whose `.bpf` parser the simulated kernel runs, loaded the kexec-tools way.
#   1. inputs: the real Debian systemd-stub and kernel when scripts/fixtures.sh has cached them, else the
#      built-in sample (samples/make-inputs.ts, generated now); a small initrd and a credential either way
#   2. `ukibpf compile parsers/uki.ts`: the UKI parser, a TypeScript DSL program, as a BPF object
#   3. `ukibpf build` (ukify's layout), `ukibpf inject` (.bpf), `ukibpf sign` (with a test key made here)
#   4. `ukibpf build-addon`: a signed cmdline addon
#   5. `kexec-bpf -s -l uki.efi --addon … --keyring cert.pem -d --dump dump/`: the eventfd/procfs
#      handshake, the verifier's verdict, the kernel log and the resulting kimage
# Everything it makes stays in .cache/demo/ for a look afterwards. PARSER=file.ts picks another parser;
# DEMO_SAMPLE=1 takes the built-in sample even when the Debian fixtures are there.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.cache/demo
rm -rf "$out"
mkdir -p "$out"
parser=${PARSER:-parsers/uki.ts}
node_run() { node --import tsx "$@"; }
ukibpf() { node_run kexec-tools-shim/ukibpf.ts "$@"; }
kexec_bpf() { node_run kexec-tools-shim/kexec-bpf/main.ts "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
started=$SECONDS

debian=.cache/fixtures/debian
stub=$debian/systemd-boot-efi/usr/lib/systemd/boot/efi/linuxx64.efi.stub
kernel=$(ls "$debian"/linux-image-cloud-amd64/boot/vmlinuz-* 2>/dev/null | head -n1 || true)
step "inputs"
if [ -z "${DEMO_SAMPLE-}" ] && [ -f "$stub" ] && [ -n "$kernel" ]; then
  node_run samples/make-inputs.ts "$out/in" --initrd-only
  echo "stub:   $stub ($(cat "$debian/systemd-boot-efi/.package"))"
  echo "kernel: $kernel ($(cat "$debian/linux-image-cloud-amd64/.package"))"
else
  node_run samples/make-inputs.ts "$out/in"
  stub=$out/in/stub.efi kernel=$out/in/vmlinuz
  echo "no Debian fixtures (scripts/fixtures.sh fetches them): the built-in sample"
  echo "stub:   $stub (a stub-shaped EFI application)"
  echo "kernel: $kernel (a bzImage-shaped sample; passes the kexec probe, does not boot)"
fi
echo "initrd: $out/in/initrd.cpio   credential: $out/in/demo.cred"

step "a test signing key (openssl req -x509, RSA 2048): stands for the distribution's key"
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 1 -subj "/CN=ukibpf demo signing key" \
  -keyout "$out/key.pem" -out "$out/cert.pem" 2>/dev/null
openssl x509 -in "$out/cert.pem" -noout -subject -fingerprint -sha256

step "compile the UKI parser: ukibpf compile $parser"
ukibpf compile "$parser" -o "$out/parser.o"
ukibpf objdump "$out/parser.o" | sed -n '/^Programs:/,/^Global data:/p' | sed '$d'

step "build the UKI (ukify's layout), inject the parser into .bpf, sign it"
ukibpf build --stub "$stub" --linux "$kernel" --initrd "$out/in/initrd.cpio" \
  --cmdline "console=ttyS0 root=/dev/vda ro" -o "$out/uki-plain.efi"
ukibpf inject "$out/uki-plain.efi" --bpf "$out/parser.o" -o "$out/uki-bpf.efi"
ukibpf sign "$out/uki-bpf.efi" --key "$out/key.pem" --cert "$out/cert.pem" -o "$out/uki.efi"

step "a signed cmdline addon (ukibpf build-addon) and a credential sidecar"
ukibpf build-addon --stub "$stub" --cmdline "systemd.log_level=debug demo.addon=1" \
  --sign-key "$out/key.pem" --sign-cert "$out/cert.pem" -o "$out/debug.addon.efi"
cp "$out/in/demo.cred" "$out/demo.cred"

step "kexec-bpf -s -l uki.efi --addon debug.addon.efi --addon demo.cred --keyring cert.pem --sig-enforce --timeout 60 -d --dump dump/"
# -d prints the verifier's whole log (indented); shown here abridged, kept whole in kexec-bpf.log
status=0
kexec_bpf -s -l "$out/uki.efi" --addon "$out/debug.addon.efi" --addon "$out/demo.cred" \
  --keyring "$out/cert.pem" --sig-enforce --timeout 60 -d --dump "$out/dump" 2>"$out/kexec-bpf.log" || status=$?
awk -v whole="$out/kexec-bpf.log" '
  /^  / { n++; if (n <= 4 || /^  processed /) print; else if (n == 5) print "  …"; next }
  { if (n > 5) printf "  (%d lines of verifier log in all: %s)\n", n, whole; n = 0; print }
' "$out/kexec-bpf.log"
[ "$status" = 0 ] || { echo "demo: kexec-bpf failed (exit $status)" >&2; exit "$status"; }

step "the kimage (dump/kimage.json, abridged)"
node -e '
  const k = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const size = (x) => (x === null ? "none" : `${x.size} bytes, sha256 ${x.sha256}`);
  console.log(`type ${k.type}, ${k.arch}, loader ${k.loader}`);
  console.log(`kernel:  ${size(k.kernel)}`);
  console.log(`initrd:  ${size(k.initrd)}`);
  console.log(`cmdline: ${JSON.stringify(k.cmdline)}`);
  for (const s of k.segments) console.log(`segment ${s.name.padEnd(8)} mem=${s.mem} memsz=${s.memsz}`);
  console.log(`signature: ${k.signature ? JSON.stringify(k.signature) : "none"}`);
  for (const s of k.stages) console.log(`parser stage ${s.depth}: program ${s.programDigest}`);
' "$out/dump/kimage.json"
echo "the kernel is the UKI's .linux, byte for byte: $(sha256sum <"$kernel" | cut -c1-16)… = $(sha256sum <"$out/dump/kernel" | cut -c1-16)…"
echo "the initrd: its cpio archives and their files"
node_run --input-type=module -e '
  import { readFileSync } from "node:fs";
  import { readCpioArchives } from "./formats/cpio/index.ts";
  const archives = readCpioArchives(new Uint8Array(readFileSync(process.argv[1])));
  for (const [i, a] of archives.entries())
    console.log(`  archive ${i}: ${a.entries.map((e) => e.name + (e.type === "directory" ? "/" : "")).join(" ")}`);
' "$out/dump/initrd"

step "done in $((SECONDS - started)) s; everything is in $out/ (dump/: kernel, initrd, cmdline, kimage.json)"
