/**
 * The LLVM pseudo-C syntax (`r0 = *(u32 *)(r1 + 4)`, `if w1 s> -5 goto +3`): a disassembler printing
 * exactly what `llvm-objdump -d` prints, and an assembler reading it back.
 */
export { assembleLlvm, type LlvmAsmOptions } from './assemble.ts';
export { disassembleLlvm, type LlvmDisasmOptions, llvmInsnText } from './print.ts';
export type { SectionContext, SectionSymbol } from './targets.ts';
