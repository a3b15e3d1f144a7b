#!/usr/bin/env bash
# `make demo`: the toolchain on a built-in sample. Assembles samples/pe-magic.s into a BPF ELF object,
# shows it the way objdump/llvm-objdump/the verifier log would, and runs it on a PE header.
# (Grows into the full UKI demo: build, inject, sign, kexec-bpf load.)
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
ukibpf() { node --import tsx kexec-tools-shim/ukibpf.ts "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "assemble samples/pe-magic.s (LLVM syntax) into a BPF ELF object"
ukibpf asm samples/pe-magic.s -o "$out/pe-magic.o" --section socket --name pe_magic
ukibpf objdump "$out/pe-magic.o"

step "disassemble: as llvm-objdump -d prints it, with the source lines from .BTF.ext"
ukibpf disasm "$out/pe-magic.o" -S
step "disassemble: the kernel verifier log's form"
ukibpf disasm "$out/pe-magic.o" --syntax log
step "disassemble: the bpf_conformance/uBPF syntax"
ukibpf disasm "$out/pe-magic.o" --syntax ubpf

# A 68-byte image start: "MZ", e_lfanew = 0x40 at offset 60, then "PE\0\0".
mem="4d5a$(printf '00%.0s' $(seq 1 58))40000000" mem="${mem}50450000"
step "run it in the interpreter on a PE header (expects e_lfanew = 0x40)"
ukibpf run "$out/pe-magic.o" --mem-hex "$mem"
if command -v llvm-objdump >/dev/null; then
  step "llvm-objdump -d agrees"
  llvm-objdump -d "$out/pe-magic.o" | tail -n +4
fi
