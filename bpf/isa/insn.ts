/**
 * The instruction model. A raw slot is the 64-bit wire unit; an Insn is one logical instruction:
 * lddw is a single Insn of width two slots whose second slot's imm is kept in `imm2`.
 * Jump and call offsets count slots, as on the wire.
 */
import { LdImmSrc } from './fields.ts';
import { type OpSpec, spec as specNamed } from './opcodes.ts';

/** One 64-bit slot exactly as encoded: opcode, registers, offset (s16), immediate (s32). */
export interface RawSlot {
  readonly code: number;
  readonly dst: number;
  readonly src: number;
  readonly off: number;
  readonly imm: number;
}

export interface Insn {
  readonly spec: OpSpec;
  readonly dst: number;
  readonly src: number;
  /** Signed 16-bit offset (jumps: slots; memory: bytes; sdiv/smod/movsx: discriminator). */
  readonly off: number;
  /** Signed 32-bit immediate. */
  readonly imm: number;
  /** lddw only: the second slot's immediate (high 32 bits of the value for imm64). */
  readonly imm2: number;
}

export interface InsnFields {
  dst?: number;
  src?: number;
  off?: number;
  imm?: number;
  imm2?: number;
}

/** Builds an instruction of a form, filling the discriminator field from the form. */
export const makeInsn = (spec: OpSpec, f: InsnFields = {}): Insn => {
  const base = { spec, dst: f.dst ?? 0, src: f.src ?? 0, off: f.off ?? 0, imm: f.imm ?? 0, imm2: f.imm2 ?? 0 };
  const m = spec.match;
  if (m !== undefined) base[m.field] = m.value;
  return base;
};

/** Same as makeInsn, by form name ('add32', 'jeq', 'ldxw', ...) and source for ALU/JMP names. */
export const insnNamed = (name: string, f: InsnFields = {}, source?: 'K' | 'X'): Insn =>
  makeInsn(specNamed(name, source), f);

/** lddw's 64-bit immediate as an unsigned bigint. */
export const imm64Of = (insn: Insn): bigint => (BigInt(insn.imm2 >>> 0) << 32n) | BigInt(insn.imm >>> 0);

/** A 64-bit immediate load (src selects the pseudo source; 0 = plain value). */
export const lddw = (dst: number, value: bigint, src: number = LdImmSrc.IMM64): Insn => {
  const v = BigInt.asUintN(64, value);
  const lo = Number(v & 0xffffffffn) | 0;
  const hi = Number(v >> 32n) | 0;
  return insnNamed(lddwNameForSrc(src), { dst, imm: lo, imm2: hi });
};

const LDDW_NAMES = [
  'lddw',
  'lddw_map_fd',
  'lddw_map_value',
  'lddw_btf_id',
  'lddw_func',
  'lddw_map_idx',
  'lddw_map_idx_value',
];
const lddwNameForSrc = (src: number): string => {
  const name = LDDW_NAMES[src];
  if (name === undefined) throw new Error(`no lddw pseudo source ${src}`);
  return name;
};

/** Slot index of every instruction, plus the total slot count. */
export const slotIndex = (insns: readonly Insn[]): { pcs: Int32Array; slots: number } => {
  const pcs = new Int32Array(insns.length);
  let pc = 0;
  for (let i = 0; i < insns.length; i++) {
    pcs[i] = pc;
    pc += (insns[i] as Insn).spec.slots;
  }
  return { pcs, slots: pc };
};

/** Slot count of a program. */
export const slotCount = (insns: readonly Insn[]): number => {
  let n = 0;
  for (const i of insns) n += i.spec.slots;
  return n;
};

/** Map from slot index to instruction index (-1 for the second half of lddw). */
export const insnAtSlot = (insns: readonly Insn[]): Int32Array => {
  const { pcs, slots } = slotIndex(insns);
  const map = new Int32Array(slots).fill(-1);
  pcs.forEach((pc, i) => {
    map[pc] = i;
  });
  return map;
};

/** Equality on every encoded field (the spec identity follows from them). */
export const sameInsn = (a: Insn, b: Insn): boolean =>
  a.spec === b.spec && a.dst === b.dst && a.src === b.src && a.off === b.off && a.imm === b.imm && a.imm2 === b.imm2;
