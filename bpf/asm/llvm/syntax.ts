/**
 * The spelling tables of the LLVM/kernel pseudo-C syntax, shared by the LLVM printer, the LLVM parser
 * and the kernel-log printer: operator per ALU operation and jump condition, C type per access size.
 */
import type { AluName, AtomicName, CondName } from '../../isa/index.ts';

/** Compound assignment operator of each ALU operation (`mov` is plain `=`). */
export const ALU_OPERATOR: Readonly<Record<Exclude<AluName, 'movsx'>, string>> = {
  add: '+=',
  sub: '-=',
  mul: '*=',
  div: '/=',
  sdiv: 's/=',
  or: '|=',
  and: '&=',
  lsh: '<<=',
  rsh: '>>=',
  mod: '%=',
  smod: 's%=',
  xor: '^=',
  mov: '=',
  arsh: 's>>=',
};

/** Comparison operator of each conditional jump. */
export const COND_OPERATOR: Readonly<Record<CondName, string>> = {
  jeq: '==',
  jgt: '>',
  jge: '>=',
  jset: '&',
  jne: '!=',
  jsgt: 's>',
  jsge: 's>=',
  jlt: '<',
  jle: '<=',
  jslt: 's<',
  jsle: 's<=',
};

/** Operator of the non-fetching atomic read-modify-write forms (`lock *(u64 *)(r1 + 0) += r2`). */
export const ATOMIC_OPERATOR: Readonly<Partial<Record<AtomicName, string>>> = {
  add: '+=',
  or: '|=',
  and: '&=',
  xor: '^=',
};

/** `u8`/`u16`/`u32`/`u64` (or `s8`... for sign-extending loads) for an access size in bytes. */
export const memType = (size: number, signed = false): string => `${signed ? 's' : 'u'}${size * 8}`;

/** Access size in bytes of a `u8`..`u64` / `s8`..`s32` type name, or undefined. */
export const sizeOfType = (type: string): { size: 1 | 2 | 4 | 8; signed: boolean } | undefined => {
  const m = /^([us])(8|16|32|64)$/.exec(type);
  if (m === null) return undefined;
  const signed = m[1] === 's';
  const size = (Number(m[2]) / 8) as 1 | 2 | 4 | 8;
  if (signed && size === 8) return undefined;
  return { size, signed };
};

/** Inverse lookup of a table: operator → operation name. */
export const invert = <K extends string>(table: Readonly<Partial<Record<K, string>>>): ReadonlyMap<string, K> =>
  new Map(Object.entries(table).map(([k, v]) => [v as string, k as K]));
