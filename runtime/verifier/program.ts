/**
 * The program as the verifier walks it: one entry per 8-byte slot (the kernel's instruction index),
 * with the decoded instruction where the slot decodes, and the raw fields always.
 */
import { BPF_FUNC } from '../../bpf/abi/index.ts';
import { CallSrc, findSpec, type Insn, isKnownOpcode, type RawSlot, toSlots } from '../../bpf/isa/index.ts';

export interface ProgSlot {
  readonly raw: RawSlot;
  /** The instruction starting at this slot; undefined for lddw's second half or a form the table lacks. */
  readonly insn: Insn | undefined;
  /** True for the second slot of a lddw. */
  readonly continuation: boolean;
}

const LDDW_CODE = 0x18;

export const fromRawSlots = (slots: readonly RawSlot[]): ProgSlot[] => {
  const out: ProgSlot[] = [];
  for (let i = 0; i < slots.length; i++) {
    const raw = slots[i] as RawSlot;
    const spec = isKnownOpcode(raw.code) ? findSpec(raw.code, raw.src, raw.off, raw.imm) : undefined;
    const next = slots[i + 1];
    const insn: Insn | undefined = spec
      ? { spec, dst: raw.dst, src: raw.src, off: raw.off, imm: raw.imm, imm2: spec.slots === 2 ? (next?.imm ?? 0) : 0 }
      : undefined;
    out.push({ raw, insn, continuation: false });
    if (raw.code === LDDW_CODE && next !== undefined) {
      out.push({ raw: next, insn: undefined, continuation: true });
      i++;
    }
  }
  return out;
};

export const fromInsns = (insns: readonly Insn[]): ProgSlot[] => fromRawSlots(insns.flatMap(toSlots));

export const isLddw = (s: ProgSlot): boolean => s.raw.code === LDDW_CODE;

const CALL_CODE = 0x85;

/** A helper call that runs a callback synchronously (bpf_loop, the one modelled). */
export const isCallbackCall = (s: ProgSlot): boolean =>
  s.raw.code === CALL_CODE && s.raw.src === CallSrc.HELPER && s.raw.imm === BPF_FUNC.loop;

/** A bpf-to-bpf call (BPF_PSEUDO_CALL). */
export const isPseudoCall = (s: ProgSlot): boolean => s.raw.code === CALL_CODE && s.raw.src === CallSrc.LOCAL;
