/** The DSL compiler: compile a file, then write ELF, raw bytes, a listing or the IR. docs/DSL.md. */
export { type CompiledProgram, type CompileOutput, compileSource, DSL_DIR } from './compile.ts';
export { CompileError, type Diagnostic, formatDiagnostic, MESSAGES } from './diagnostics.ts';
export {
  type LinkedMap,
  linkedFuncLinkage,
  linkedInsns,
  linkedMaps,
  listing,
  objectSpec,
  rawBytes,
  writeElf,
} from './output.ts';
