/**
 * Register and state printing in the Linux 6.18 log format (print_reg_state, print_scalar_ranges,
 * print_verifier_state): `R0=scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))`,
 * `R1=ctx()`, `R10=fp0`, `fp-8=mmmmmmmm`.
 */
import { kernelInsnText } from '../../../bpf/asm/kernel-log.ts';
import { type Bounds, S32_MAX, S32_MIN, S64_MAX, S64_MIN, U32_MAX, U64_MAX, u64 } from '../domain/bounds.ts';
import { tnumIsConst, tnumIsUnknown, tnumToString } from '../domain/tnum.ts';
import type { ProgSlot } from '../program.ts';
import { type FuncState, isSpilledReg, SLOT_SIZE, Slot, type SlotType } from '../state/frame.ts';
import { ADD_CONST, isPktPointer, type RegState, regTypeStr } from '../state/reg.ts';

const snumSigned = (n: number): string => (n >= 0 ? `+${n}` : `${n}`);

/** Small magnitudes print in decimal, others in hex (the kernel's verbose_unum / verbose_snum). */
export const unum = (v: bigint): string => (v <= 0xffffn ? v.toString() : `0x${u64(v).toString(16)}`);
export const snum = (v: bigint): string => (isSnumDecimal(v) ? v.toString() : `0x${u64(v).toString(16)}`);

interface Range {
  readonly name: string;
  readonly val: bigint;
  readonly signed: boolean;
  omit: boolean;
}

const isSnumDecimal = (v: bigint): boolean => v >= -0x8000n && v <= 0x7fffn;
/** A 32-bit signed bound as the kernel lists it: itself when printed in decimal, else its u32. */
const s32Listed = (v: bigint): bigint => (isSnumDecimal(v) ? v : BigInt.asUintN(32, v));

/** print_scalar_ranges: equal values are grouped (`smin=umin=0`), defaults omitted. */
const scalarRanges = (b: Bounds): string[] => {
  const rs: Range[] = [
    { name: 'smin', val: b.smin, signed: true, omit: b.smin === S64_MIN },
    { name: 'smax', val: b.smax, signed: true, omit: b.smax === S64_MAX },
    { name: 'umin', val: b.umin, signed: false, omit: b.umin === 0n },
    { name: 'umax', val: b.umax, signed: false, omit: b.umax === U64_MAX },
    { name: 'smin32', val: s32Listed(b.s32min), signed: true, omit: b.s32min === S32_MIN },
    { name: 'smax32', val: s32Listed(b.s32max), signed: true, omit: b.s32max === S32_MAX },
    { name: 'umin32', val: b.u32min, signed: false, omit: b.u32min === 0n },
    { name: 'umax32', val: b.u32max, signed: false, omit: b.u32max === U32_MAX },
  ];
  // Values compare as the kernel's u64 fields.
  const raw = (r: Range): bigint => u64(r.val);
  const out: string[] = [];
  for (let i = 0; i < rs.length; i++) {
    const m1 = rs[i] as Range;
    if (m1.omit) continue;
    const neg1 = m1.signed && m1.val < 0n;
    let text = `${m1.name}=`;
    for (let j = i + 2; j < rs.length; j += 2) {
      const m2 = rs[j] as Range;
      if (m2.omit || raw(m2) !== raw(m1)) continue;
      const neg2 = m2.signed && m2.val < 0n;
      if (neg1 !== neg2) continue;
      m2.omit = true;
      text += `${m2.name}=`;
    }
    text += m1.signed ? snum(m1.val) : unum(m1.val);
    out.push(text);
  }
  return out;
};

const idParts = (r: RegState): string[] => {
  const parts: string[] = [];
  if (r.id) parts.push(`id=${r.id & ~ADD_CONST}${r.id & ADD_CONST ? snumSigned(r.off) : ''}`);
  if (r.refObjId) parts.push(`ref_obj_id=${r.refObjId}`);
  return parts;
};

/** print_reg_state; `frameno` is the frame the register lives in (stack pointers into others say so). */
export const regToString = (r: RegState, frameno: number): string => {
  const b = r.b;
  if (r.type === 'scalar') {
    const p = r.precise ? 'P' : '';
    if (tnumIsConst(b.varOff)) return p + snum(BigInt.asIntN(64, b.varOff.value));
    const parts = idParts(r);
    parts.push(...scalarRanges(b));
    if (!tnumIsUnknown(b.varOff)) parts.push(`var_off=${tnumToString(b.varOff)}`);
    return `${p}scalar(${parts.join(',')})`;
  }
  let s = regTypeStr(r.type, r.flags);
  if (r.type === 'stack') {
    if (r.frameno !== frameno) s += `[${r.frameno}]`;
    if (tnumIsConst(b.varOff)) return s + snum(BigInt.asIntN(64, u64(b.varOff.value + BigInt(r.off))));
  }
  if (r.type === 'btf_id') s += r.btfName;
  const parts = idParts(r);
  if ((r.type === 'map_ptr' || r.type === 'map_value' || r.type === 'map_key') && r.map) {
    if (r.map.name) parts.push(`map=${r.map.name}`);
    parts.push(`ks=${r.map.keySize},vs=${r.map.valueSize}`);
  }
  if (r.off) parts.push(`off=${snum(BigInt(r.off))}`);
  // a negative range (the pkt_end markers) prints as the kernel's u64 of it
  if (isPktPointer(r)) parts.push(`r=${unum(u64(BigInt(r.range)))}`);
  if (r.type === 'mem') parts.push(`sz=${unum(BigInt(r.memSize))}`);
  if (tnumIsConst(b.varOff)) {
    if (b.varOff.value) parts.push(`imm=${snum(BigInt.asIntN(64, b.varOff.value))}`);
  } else {
    parts.push(...scalarRanges(b));
    if (!tnumIsUnknown(b.varOff)) parts.push(`var_off=${tnumToString(b.varOff)}`);
  }
  return `${s}(${parts.join(',')})`;
};

const SLOT_CHAR: Record<SlotType, string> = {
  [Slot.INVALID]: '?',
  [Slot.SPILL]: 'r',
  [Slot.MISC]: 'm',
  [Slot.ZERO]: '0',
};

/** Which registers / stack slots to print (all, or only the ones the last instruction touched). */
export interface Scratch {
  regs: Set<number>;
  slots: Set<number>;
}

/** print_verifier_state for one frame: " R0=... R10=fp0 fp-8=mmmmmmmm refs=1". No trailing newline. */
/** verbose_insn: `(bf) r1 = r6`, the opcode in hex and the instruction as disasm.c prints it. */
export const insnText = (slot: ProgSlot, helperName: (id: number) => string | undefined): string => {
  const code = `(${slot.raw.code.toString(16).padStart(2, '0')})`;
  return slot.insn ? `${code} ${kernelInsnText(slot.insn, { helperName })}` : `${code} ???`;
};

export const frameToString = (f: FuncState, scratch: Scratch | undefined, refs: readonly number[]): string => {
  let s = f.frameno ? ` frame${f.frameno}:` : '';
  f.regs.forEach((r, i) => {
    if (r.type === 'not_init') return;
    if (scratch && !scratch.regs.has(i)) return;
    s += ` R${i}=${regToString(r, f.frameno)}`;
  });
  f.stack.forEach((slot, spi) => {
    if (slot.types.every((t) => t === Slot.INVALID)) return;
    if (scratch && !scratch.slots.has(spi)) return;
    const at = ` fp${-(spi + 1) * SLOT_SIZE}`;
    if (isSpilledReg(slot)) {
      // a narrower spill shows the bytes above it first (`????0` for a 4-byte zero)
      const above = slot.types.slice(0, slot.types.indexOf(Slot.SPILL)).map((t) => SLOT_CHAR[t]);
      s += `${at}=${above.join('')}${regToString(slot.spilled, f.frameno)}`;
    } else {
      s += `${at}=${slot.types.map((t) => SLOT_CHAR[t]).join('')}`;
    }
  });
  if (refs.length) s += ` refs=${refs.join(',')}`;
  if (f.inCallback) s += ' cb';
  return s;
};
