/**
 * Wire encoding of instructions, in either byte order. In a little-endian object byte 1 is
 * `src << 4 | dst`; in a big-endian object it is `dst << 4 | src` and off/imm are big-endian.
 */
import { IsaError } from './errors.ts';
import { SLOT_BYTES } from './fields.ts';
import type { Insn, RawSlot } from './insn.ts';
import { findSpec } from './opcodes.ts';
import { checkSlot } from './validate.ts';

export type ByteOrder = 'le' | 'be';

/** The raw slots of one instruction (two for lddw). */
export const toSlots = (insn: Insn): RawSlot[] => {
  const first = { code: insn.spec.code, dst: insn.dst, src: insn.src, off: insn.off, imm: insn.imm };
  return insn.spec.slots === 2 ? [first, { code: 0, dst: 0, src: 0, off: 0, imm: insn.imm2 }] : [first];
};

const writeSlot = (view: DataView, at: number, s: RawSlot, order: ByteOrder): void => {
  const le = order === 'le';
  view.setUint8(at, s.code);
  view.setUint8(at + 1, le ? ((s.src & 0xf) << 4) | (s.dst & 0xf) : ((s.dst & 0xf) << 4) | (s.src & 0xf));
  view.setInt16(at + 2, s.off, le);
  view.setInt32(at + 4, s.imm, le);
};

const readSlot = (view: DataView, at: number, order: ByteOrder): RawSlot => {
  const le = order === 'le';
  const regs = view.getUint8(at + 1);
  return {
    code: view.getUint8(at),
    dst: le ? regs & 0xf : regs >> 4,
    src: le ? regs >> 4 : regs & 0xf,
    off: view.getInt16(at + 2, le),
    imm: view.getInt32(at + 4, le),
  };
};

/** Encodes raw slots. */
export const encodeSlots = (slots: readonly RawSlot[], order: ByteOrder = 'le'): Uint8Array => {
  const out = new Uint8Array(slots.length * SLOT_BYTES);
  const view = new DataView(out.buffer);
  slots.forEach((s, i) => {
    writeSlot(view, i * SLOT_BYTES, s, order);
  });
  return out;
};

/** Encodes a program. */
export const encode = (insns: readonly Insn[], order: ByteOrder = 'le'): Uint8Array =>
  encodeSlots(insns.flatMap(toSlots), order);

/** Splits bytes into raw slots, without interpreting them. */
export const decodeSlots = (bytes: Uint8Array, order: ByteOrder = 'le'): RawSlot[] => {
  if (bytes.length % SLOT_BYTES !== 0) {
    throw new IsaError(
      'TRUNCATED',
      Math.floor(bytes.length / SLOT_BYTES),
      `program size ${bytes.length} is not a multiple of ${SLOT_BYTES} bytes`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const slots: RawSlot[] = [];
  for (let at = 0; at < bytes.length; at += SLOT_BYTES) slots.push(readSlot(view, at, order));
  return slots;
};

/**
 * Decodes raw slots into instructions, folding lddw pairs. Every slot is checked: the first bad slot
 * throws an IsaError naming its slot index in the kernel's wording.
 */
export const decodeRaw = (slots: readonly RawSlot[]): Insn[] => {
  const out: Insn[] = [];
  for (let i = 0; i < slots.length; i++) {
    const s = slots[i] as RawSlot;
    const next = slots[i + 1];
    const problem = checkSlot(s, next);
    if (problem) throw new IsaError(problem.code, i, problem.message);
    const spec = findSpec(s.code, s.src, s.off, s.imm);
    if (spec === undefined) throw new IsaError('UNKNOWN_OPCODE', i, `unknown opcode ${s.code.toString(16)}`);
    if (spec.slots === 2) {
      out.push({ spec, dst: s.dst, src: s.src, off: s.off, imm: s.imm, imm2: (next as RawSlot).imm });
      i++;
    } else {
      out.push({ spec, dst: s.dst, src: s.src, off: s.off, imm: s.imm, imm2: 0 });
    }
  }
  return out;
};

/** Decodes a program from bytes (a section's contents or a raw .bin). */
export const decode = (bytes: Uint8Array, order: ByteOrder = 'le'): Insn[] => decodeRaw(decodeSlots(bytes, order));
