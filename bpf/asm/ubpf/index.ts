/** The conformance/uBPF assembly syntax (bpf_conformance `.data` files, uBPF, rbpf with `%`). */
export { assembleUbpf, type UbpfAsmOptions } from './assembler.ts';
export { disassembleUbpf, formatImm, formatUbpf } from './disassembler.ts';
