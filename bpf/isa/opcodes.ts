/**
 * The opcode table: one row per instruction form of RFC 9669 (plus v4, atomics, calls, callx and the
 * lddw pseudo sources). The assembler, disassembler, interpreter and verifier all read these rows;
 * there is no second list of opcodes anywhere in the project.
 *
 * A row is identified by its opcode byte plus, where the ISA overloads one opcode, a discriminating
 * field value (off for sdiv/smod/movsx, imm for atomics and byte swaps, src for calls and lddw).
 */
import { AluOp, AtomicOp, CallSrc, Class, JmpOp, LdImmSrc, Mode, Size, Source } from './fields.ts';

export type Kind =
  /** dst = dst op src|imm (including mov, movsx, sdiv, smod) */
  | 'alu'
  | 'neg'
  /** le/be conversion (ALU) or unconditional bswap (ALU64) */
  | 'end'
  /** 64-bit immediate load spanning two slots */
  | 'lddw'
  /** legacy packet loads */
  | 'ldabs'
  | 'ldind'
  | 'ldx'
  | 'st'
  | 'stx'
  | 'atomic'
  /** conditional jump: if dst cond src|imm goto +off */
  | 'jmp'
  /** goto +off */
  | 'ja'
  /** gotol +imm (JMP32 class) */
  | 'ja32'
  | 'jcond'
  | 'call'
  | 'callx'
  | 'exit';

export type AluName =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'sdiv'
  | 'or'
  | 'and'
  | 'lsh'
  | 'rsh'
  | 'mod'
  | 'smod'
  | 'xor'
  | 'mov'
  | 'movsx'
  | 'arsh';

export type CondName = 'jeq' | 'jgt' | 'jge' | 'jset' | 'jne' | 'jsgt' | 'jsge' | 'jlt' | 'jle' | 'jslt' | 'jsle';

export type AtomicName =
  | 'add'
  | 'or'
  | 'and'
  | 'xor'
  | 'fetch_add'
  | 'fetch_or'
  | 'fetch_and'
  | 'fetch_xor'
  | 'xchg'
  | 'cmpxchg';

export type EndName = 'le' | 'be' | 'bswap';
export type CallName = 'helper' | 'local' | 'kfunc';
export type LddwName = 'imm64' | 'map_fd' | 'map_value' | 'btf_id' | 'func' | 'map_idx' | 'map_idx_value';

/** RFC 9669 §2.4 conformance groups, plus bpf_conformance's `callx`. */
export type Group = 'base32' | 'base64' | 'atomic32' | 'atomic64' | 'divmul32' | 'divmul64' | 'packet' | 'callx';

/** The LLVM `-mcpu` level (bpf_conformance `--cpu_version`) an instruction first appears in. */
export type CpuVersion = 1 | 2 | 3 | 4;

/** Which raw field distinguishes rows sharing one opcode byte. */
export type DiscriminatorField = 'off' | 'imm' | 'src';

export interface OpSpec {
  /** Position in OPCODES. */
  readonly id: number;
  /** Unique name of the form; the bpf_conformance/uBPF mnemonic where that syntax has one. */
  readonly name: string;
  readonly code: number;
  readonly kind: Kind;
  /** Operation within the kind (an AluName, CondName, AtomicName, EndName, CallName or LddwName). */
  readonly op: string;
  /** Operand width: 32 for ALU/JMP32/ATOMIC W forms, 64 otherwise. */
  readonly width: 32 | 64;
  /** K = immediate operand, X = register operand; undefined where not applicable. */
  readonly source: 'K' | 'X' | undefined;
  /** Memory access size in bytes (loads, stores, atomics); END: converted width in bytes; else 0. */
  readonly size: 0 | 1 | 2 | 4 | 8;
  /** Signed semantics: sdiv, smod, movsx, sign-extending loads, signed compares. */
  readonly signed: boolean;
  /** Discriminator for overloaded opcodes. */
  readonly match: { readonly field: DiscriminatorField; readonly value: number } | undefined;
  readonly group: Group;
  readonly cpu: CpuVersion;
  /** Slots occupied: 2 for lddw, else 1. */
  readonly slots: 1 | 2;
}

type Row = Omit<OpSpec, 'id' | 'slots'>;

const rows: Row[] = [];
const add = (r: Row): void => {
  rows.push(r);
};

const ALU_OPS: readonly [AluName, number][] = [
  ['add', AluOp.ADD],
  ['sub', AluOp.SUB],
  ['mul', AluOp.MUL],
  ['div', AluOp.DIV],
  ['or', AluOp.OR],
  ['and', AluOp.AND],
  ['lsh', AluOp.LSH],
  ['rsh', AluOp.RSH],
  ['mod', AluOp.MOD],
  ['xor', AluOp.XOR],
  ['mov', AluOp.MOV],
  ['arsh', AluOp.ARSH],
];
const DIVMUL = new Set<AluName>(['mul', 'div', 'mod']);

for (const [cls, width] of [
  [Class.ALU, 32],
  [Class.ALU64, 64],
] as const) {
  const suffix = width === 32 ? '32' : '';
  const base = width === 32 ? 'base32' : 'base64';
  const divmul = width === 32 ? 'divmul32' : 'divmul64';
  for (const [op, bits] of ALU_OPS) {
    for (const source of ['K', 'X'] as const) {
      const code = bits | (source === 'K' ? Source.K : Source.X) | cls;
      const isDivMul = DIVMUL.has(op);
      // div/mod share their opcode with sdiv/smod (off = 1), mov with movsx (off = 8/16/32).
      const overloaded = op === 'div' || op === 'mod' || (op === 'mov' && source === 'X');
      add({
        name: `${op}${suffix}`,
        code,
        kind: 'alu',
        op,
        width,
        source,
        size: 0,
        signed: false,
        match: overloaded ? { field: 'off', value: 0 } : undefined,
        group: isDivMul ? divmul : base,
        cpu: 1,
      });
      if (op === 'div' || op === 'mod') {
        const sop: AluName = op === 'div' ? 'sdiv' : 'smod';
        add({
          name: `${sop}${suffix}`,
          code,
          kind: 'alu',
          op: sop,
          width,
          source,
          size: 0,
          signed: true,
          match: { field: 'off', value: 1 },
          group: divmul,
          cpu: 4,
        });
      }
    }
  }
  // movsx: register form only; ALU allows 8/16, ALU64 allows 8/16/32.
  for (const bits of width === 32 ? [8, 16] : [8, 16, 32]) {
    add({
      name: `movsx${bits}${width === 32 ? '32' : '64'}`,
      code: AluOp.MOV | Source.X | cls,
      kind: 'alu',
      op: 'movsx',
      width,
      source: 'X',
      size: (bits / 8) as 1 | 2 | 4,
      signed: true,
      match: { field: 'off', value: bits },
      group: base,
      cpu: 4,
    });
  }
  add({
    name: `neg${suffix}`,
    code: AluOp.NEG | Source.K | cls,
    kind: 'neg',
    op: 'neg',
    width,
    source: 'K',
    size: 0,
    signed: false,
    match: undefined,
    group: base,
    cpu: 1,
  });
}

// Byte order: ALU class le (TO_LE, source bit 0) and be (TO_BE, source bit 1); ALU64 class bswap (v4).
for (const [end, code, cpu] of [
  ['le', AluOp.END | Source.K | Class.ALU, 1],
  ['be', AluOp.END | Source.X | Class.ALU, 1],
  ['bswap', AluOp.END | Source.K | Class.ALU64, 4],
] as const) {
  for (const bits of [16, 32, 64] as const) {
    add({
      name: `${end}${bits}`,
      code,
      kind: 'end',
      op: end,
      width: bits === 64 ? 64 : 32,
      source: undefined,
      size: (bits / 8) as 2 | 4 | 8,
      signed: false,
      match: { field: 'imm', value: bits },
      group: bits === 64 ? 'base64' : 'base32',
      cpu,
    });
  }
}

// 64-bit immediate load and its pseudo sources.
const LDDW_SRCS: readonly [LddwName, number][] = [
  ['imm64', LdImmSrc.IMM64],
  ['map_fd', LdImmSrc.MAP_FD],
  ['map_value', LdImmSrc.MAP_VALUE],
  ['btf_id', LdImmSrc.BTF_ID],
  ['func', LdImmSrc.FUNC],
  ['map_idx', LdImmSrc.MAP_IDX],
  ['map_idx_value', LdImmSrc.MAP_IDX_VALUE],
];
for (const [op, src] of LDDW_SRCS) {
  add({
    name: op === 'imm64' ? 'lddw' : `lddw_${op}`,
    code: Mode.IMM | Size.DW | Class.LD,
    kind: 'lddw',
    op,
    width: 64,
    source: undefined,
    size: 8,
    signed: false,
    match: { field: 'src', value: src },
    group: 'base64',
    cpu: 1,
  });
}

const SIZES: readonly [string, number, 1 | 2 | 4 | 8][] = [
  ['b', Size.B, 1],
  ['h', Size.H, 2],
  ['w', Size.W, 4],
  ['dw', Size.DW, 8],
];

// Legacy packet access (LD ABS/IND), byte/half/word only.
for (const [suffix, size, bytes] of SIZES) {
  if (bytes === 8) continue;
  for (const [kind, mode] of [
    ['ldabs', Mode.ABS],
    ['ldind', Mode.IND],
  ] as const) {
    add({
      name: `${kind}${suffix}`,
      code: mode | size | Class.LD,
      kind,
      op: kind,
      width: 64,
      source: undefined,
      size: bytes,
      signed: false,
      match: undefined,
      group: 'packet',
      cpu: 1,
    });
  }
}

for (const [suffix, size, bytes] of SIZES) {
  const group = bytes === 8 ? 'base64' : 'base32';
  add({
    name: `ldx${suffix}`,
    code: Mode.MEM | size | Class.LDX,
    kind: 'ldx',
    op: 'ldx',
    width: 64,
    source: 'X',
    size: bytes,
    signed: false,
    match: undefined,
    group,
    cpu: 1,
  });
  if (bytes !== 8) {
    add({
      name: `ldxs${suffix}`,
      code: Mode.MEMSX | size | Class.LDX,
      kind: 'ldx',
      op: 'ldxs',
      width: 64,
      source: 'X',
      size: bytes,
      signed: true,
      match: undefined,
      group,
      cpu: 4,
    });
  }
  add({
    name: `st${suffix}`,
    code: Mode.MEM | size | Class.ST,
    kind: 'st',
    op: 'st',
    width: 64,
    source: 'K',
    size: bytes,
    signed: false,
    match: undefined,
    group,
    cpu: 1,
  });
  add({
    name: `stx${suffix}`,
    code: Mode.MEM | size | Class.STX,
    kind: 'stx',
    op: 'stx',
    width: 64,
    source: 'X',
    size: bytes,
    signed: false,
    match: undefined,
    group,
    cpu: 1,
  });
}

const ATOMICS: readonly [AtomicName, number][] = [
  ['add', AtomicOp.ADD],
  ['or', AtomicOp.OR],
  ['and', AtomicOp.AND],
  ['xor', AtomicOp.XOR],
  ['fetch_add', AtomicOp.ADD | AtomicOp.FETCH],
  ['fetch_or', AtomicOp.OR | AtomicOp.FETCH],
  ['fetch_and', AtomicOp.AND | AtomicOp.FETCH],
  ['fetch_xor', AtomicOp.XOR | AtomicOp.FETCH],
  ['xchg', AtomicOp.XCHG],
  ['cmpxchg', AtomicOp.CMPXCHG],
];
for (const [width, size, bytes] of [
  [32, Size.W, 4],
  [64, Size.DW, 8],
] as const) {
  for (const [op, imm] of ATOMICS) {
    add({
      name: `lock_${op}${width === 32 ? '32' : ''}`,
      code: Mode.ATOMIC | size | Class.STX,
      kind: 'atomic',
      op,
      width,
      source: 'X',
      size: bytes,
      signed: false,
      match: { field: 'imm', value: imm },
      group: width === 32 ? 'atomic32' : 'atomic64',
      // Plain atomic add is the old XADD, available from v1; the rest arrived with v3.
      cpu: op === 'add' ? 1 : 3,
    });
  }
}

const CONDS: readonly [CondName, number, boolean, CpuVersion][] = [
  ['jeq', JmpOp.JEQ, false, 1],
  ['jgt', JmpOp.JGT, false, 1],
  ['jge', JmpOp.JGE, false, 1],
  ['jset', JmpOp.JSET, false, 1],
  ['jne', JmpOp.JNE, false, 1],
  ['jsgt', JmpOp.JSGT, true, 1],
  ['jsge', JmpOp.JSGE, true, 1],
  ['jlt', JmpOp.JLT, false, 2],
  ['jle', JmpOp.JLE, false, 2],
  ['jslt', JmpOp.JSLT, true, 2],
  ['jsle', JmpOp.JSLE, true, 2],
];
for (const [cls, width] of [
  [Class.JMP, 64],
  [Class.JMP32, 32],
] as const) {
  for (const [op, bits, signed, cpu] of CONDS) {
    for (const source of ['K', 'X'] as const) {
      add({
        name: `${op}${width === 32 ? '32' : ''}`,
        code: bits | (source === 'K' ? Source.K : Source.X) | cls,
        kind: 'jmp',
        op,
        width,
        source,
        size: 0,
        signed,
        match: undefined,
        group: width === 32 ? 'base32' : 'base64',
        cpu: width === 32 ? 3 : cpu,
      });
    }
  }
}

add({
  name: 'ja',
  code: JmpOp.JA | Class.JMP,
  kind: 'ja',
  op: 'ja',
  width: 64,
  source: 'K',
  size: 0,
  signed: false,
  match: undefined,
  group: 'base32',
  cpu: 1,
});
add({
  name: 'ja32',
  code: JmpOp.JA | Class.JMP32,
  kind: 'ja32',
  op: 'ja32',
  width: 32,
  source: 'K',
  size: 0,
  signed: false,
  match: undefined,
  group: 'base32',
  cpu: 4,
});
for (const [op, src, cpu] of [
  ['helper', CallSrc.HELPER, 1],
  ['local', CallSrc.LOCAL, 3],
  ['kfunc', CallSrc.KFUNC, 3],
] as const) {
  add({
    name: op === 'helper' ? 'call' : `call_${op}`,
    code: JmpOp.CALL | Source.K | Class.JMP,
    kind: 'call',
    op,
    width: 64,
    source: 'K',
    size: 0,
    signed: false,
    match: { field: 'src', value: src },
    group: 'base32',
    cpu,
  });
}
add({
  name: 'callx',
  code: JmpOp.CALL | Source.X | Class.JMP,
  kind: 'callx',
  op: 'callx',
  width: 64,
  source: 'X',
  size: 0,
  signed: false,
  match: undefined,
  group: 'callx',
  cpu: 1,
});
add({
  name: 'exit',
  code: JmpOp.EXIT | Class.JMP,
  kind: 'exit',
  op: 'exit',
  width: 64,
  source: 'K',
  size: 0,
  signed: false,
  match: undefined,
  group: 'base32',
  cpu: 1,
});

/** Every instruction form, in a stable order. */
export const OPCODES: readonly OpSpec[] = Object.freeze(
  rows.map((r, id) => Object.freeze({ ...r, id, slots: r.kind === 'lddw' ? 2 : 1 }) as OpSpec),
);

/** Rows sharing each opcode byte (most bytes have exactly one). */
const BY_CODE: readonly (readonly OpSpec[])[] = (() => {
  const table: OpSpec[][] = Array.from({ length: 256 }, () => []);
  for (const spec of OPCODES) table[spec.code]?.push(spec);
  return table;
})();

const BY_NAME: ReadonlyMap<string, readonly OpSpec[]> = (() => {
  const m = new Map<string, OpSpec[]>();
  for (const spec of OPCODES) {
    const list = m.get(spec.name);
    if (list) list.push(spec);
    else m.set(spec.name, [spec]);
  }
  return m;
})();

/** All rows with this opcode byte; empty when the byte is not an instruction. */
export const specsForCode = (code: number): readonly OpSpec[] => BY_CODE[code & 0xff] ?? [];

/** True if the byte is the opcode of some instruction form. */
export const isKnownOpcode = (code: number): boolean => specsForCode(code).length > 0;

/** The rows carrying a name: one row, or a K and an X row for ALU/JMP names. */
export const specsNamed = (name: string): readonly OpSpec[] => BY_NAME.get(name) ?? [];

/**
 * The row for an opcode byte and its discriminating field values; undefined if no form matches
 * (the caller turns that into the kernel's message for the class).
 */
export const findSpec = (code: number, src: number, off: number, imm: number): OpSpec | undefined => {
  for (const spec of specsForCode(code)) {
    const m = spec.match;
    if (m === undefined) return spec;
    const value = m.field === 'off' ? off : m.field === 'imm' ? imm : src;
    if (value === m.value) return spec;
  }
  return undefined;
};

/** One row by exact name and source (for builders). Throws on an unknown name: a programming error. */
export const spec = (name: string, source?: 'K' | 'X'): OpSpec => {
  const list = specsNamed(name);
  const matches = source === undefined ? list : list.filter((s) => s.source === source);
  const [only] = matches;
  if (only === undefined) throw new Error(`no opcode named '${name}'${source ? ` with source ${source}` : ''}`);
  if (matches.length > 1) throw new Error(`opcode name '${name}' needs a source (K or X)`);
  return only;
};
