/**
 * The DSL: what a parser program imports. Valid TypeScript that runs in Node as is (native mode) and
 * that `compiler/` compiles to BPF. docs/DSL.md describes the language.
 */
export { BoundsFault, Bytes, stackBytes } from './bytes.ts';
export {
  APPEND,
  bpfLoop,
  type CarrierDir,
  carrier,
  decompress,
  getPrandomU32,
  type HelperHost,
  IN,
  ktimeGetNs,
  MissingHelperError,
  OUT,
  type Resource,
  setHelperHost,
  supplementInitrd,
} from './helpers.ts';
export {
  type bool,
  type Int,
  i8,
  i16,
  i32,
  i64,
  NotAnIntegerError,
  u8,
  u16,
  u32,
  u64,
  udiv,
  umod,
} from './ints.ts';
export { ArrayMap, arrayMap, HashMap, hashMap, RingBuf, Reservation, ringbuf } from './maps.ts';
export { type Context, inline, noinline, Program, type ProgramDecl, program } from './program.ts';
export { offsetOf, Struct, type StructView, struct } from './struct.ts';
export { Table, type TableType, table } from './table.ts';
