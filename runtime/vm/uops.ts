/**
 * Micro-operations of the interpreter: what the dispatch loop switches on. Each opcode-table row maps
 * to one micro-op by its semantics (kind, op, width, size), computed by `uopOf` from the row itself,
 * never from opcode bytes. K and X forms share a micro-op: the loader turns every immediate operand into
 * a read-only constant register, so `add64 r1, 5` and `add64 r1, r2` run the same code, and ST shares
 * STX's. lddw becomes LDDW over a constant register holding the resolved 64-bit value.
 */
import type { OpSpec } from '../../bpf/isa/index.ts';

// A literal object so that V8 folds `case U.X:` to constants (measured: as fast as number literals).
export const U = {
  ADD32: 0,
  ADD64: 1,
  SUB32: 2,
  SUB64: 3,
  MUL32: 4,
  MUL64: 5,
  DIV32: 6,
  DIV64: 7,
  SDIV32: 8,
  SDIV64: 9,
  OR32: 10,
  OR64: 11,
  AND32: 12,
  AND64: 13,
  LSH32: 14,
  LSH64: 15,
  RSH32: 16,
  RSH64: 17,
  MOD32: 18,
  MOD64: 19,
  SMOD32: 20,
  SMOD64: 21,
  XOR32: 22,
  XOR64: 23,
  MOV32: 24,
  MOV64: 25,
  ARSH32: 26,
  ARSH64: 27,
  NEG32: 28,
  NEG64: 29,
  MOVSX8_32: 30,
  MOVSX16_32: 31,
  MOVSX8_64: 32,
  MOVSX16_64: 33,
  MOVSX32_64: 34,
  LE16: 35,
  LE32: 36,
  LE64: 37,
  BSWAP16: 38,
  BSWAP32: 39,
  BSWAP64: 40,
  LDDW: 41,
  LDABS: 42,
  LDIND: 43,
  LDXB: 44,
  LDXH: 45,
  LDXW: 46,
  LDXDW: 47,
  LDXSB: 48,
  LDXSH: 49,
  LDXSW: 50,
  STB: 51,
  STH: 52,
  STW: 53,
  STDW: 54,
  ATOMIC32: 55,
  ATOMIC64: 56,
  JA: 57,
  JEQ64: 58,
  JEQ32: 59,
  JGT64: 60,
  JGT32: 61,
  JGE64: 62,
  JGE32: 63,
  JSET64: 64,
  JSET32: 65,
  JNE64: 66,
  JNE32: 67,
  JSGT64: 68,
  JSGT32: 69,
  JSGE64: 70,
  JSGE32: 71,
  JLT64: 72,
  JLT32: 73,
  JLE64: 74,
  JLE32: 75,
  JSLT64: 76,
  JSLT32: 77,
  JSLE64: 78,
  JSLE32: 79,
  CALL_HELPER: 80,
  CALL_LOCAL: 81,
  CALL_KFUNC: 82,
  CALLX: 83,
  EXIT: 84,
  /** Not an instruction start (second half of lddw) or one past the end: executing it is an error. */
  TRAP: 85,
} as const;

export type Uop = (typeof U)[keyof typeof U];

const named = (key: string): Uop => {
  const u = (U as Record<string, Uop>)[key];
  if (u === undefined) throw new Error(`no micro-op ${key}`);
  return u;
};

const BITS = { 1: 8, 2: 16, 4: 32, 8: 64 } as const;
const MEM_SUFFIX = { 1: 'B', 2: 'H', 4: 'W', 8: 'DW' } as const;

/** The micro-op executing a row of the opcode table. */
export const uopOf = (spec: OpSpec): Uop => {
  switch (spec.kind) {
    case 'alu':
      return spec.op === 'movsx'
        ? named(`MOVSX${BITS[spec.size as 1 | 2 | 4]}_${spec.width}`)
        : named(`${spec.op.toUpperCase()}${spec.width}`);
    case 'neg':
      return named(`NEG${spec.width}`);
    case 'end':
      // On a little-endian target `le` truncates and `be` equals the unconditional swap.
      return named(`${spec.op === 'le' ? 'LE' : 'BSWAP'}${BITS[spec.size as 2 | 4 | 8]}`);
    case 'lddw':
      return U.LDDW;
    case 'ldabs':
      return U.LDABS;
    case 'ldind':
      return U.LDIND;
    case 'ldx':
      return named(`LDX${spec.signed ? 'S' : ''}${MEM_SUFFIX[spec.size as 1 | 2 | 4 | 8]}`);
    case 'st':
    case 'stx':
      return named(`ST${MEM_SUFFIX[spec.size as 1 | 2 | 4 | 8]}`);
    case 'atomic':
      return spec.width === 32 ? U.ATOMIC32 : U.ATOMIC64;
    case 'jmp':
      return named(`${spec.op.toUpperCase()}${spec.width}`);
    case 'ja':
    case 'ja32':
      return U.JA;
    case 'call':
      return named(`CALL_${spec.op.toUpperCase()}`);
    case 'callx':
      return U.CALLX;
    case 'exit':
      return U.EXIT;
    default:
      throw new Error(`no micro-op for ${spec.name} (${spec.kind})`);
  }
};
