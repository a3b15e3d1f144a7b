/**
 * BPF ELF objects: `readObject` (clang/libbpf conventions, checked input, ElfError on bad bytes) and
 * `writeObject` (objects llvm-objdump, llvm-readelf and libbpf/bpftool accept).
 */
export * from './constants.ts';
export * from './errors.ts';
export * from './file.ts';
export * from './maps.ts';
export * from './object.ts';
export * from './read.ts';
export * from './spec.ts';
export * from './write.ts';
