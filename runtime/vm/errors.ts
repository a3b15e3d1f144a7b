/**
 * The one error type of the execution engine. Every way a run can end other than EXIT is a VmError
 * carrying where it happened: slot index (pc), the instruction disassembled, and for memory faults the
 * address, access size and the region the address fell in (or next to).
 */

export type VmErrorCode =
  /** load/store outside every region, or past the end of the one it points into */
  | 'BAD_ACCESS'
  /** store into a read-only region */
  | 'READ_ONLY'
  /** more instructions executed than the budget allows */
  | 'BUDGET_EXCEEDED'
  /** call of a helper id no registry provides */
  | 'UNKNOWN_HELPER'
  /** call of a kfunc BTF id no registry provides */
  | 'UNKNOWN_KFUNC'
  /** a bpf-to-bpf call beyond the 8-frame limit */
  | 'CALL_DEPTH'
  /** callx of a value that is neither a code address nor a helper id */
  | 'BAD_CALL_TARGET'
  /** structural problem found when loading (jump out of range, write to R10, ...) */
  | 'BAD_PROGRAM'
  /** lddw pseudo source (map, BTF variable) the host could not resolve */
  | 'UNRESOLVED_LDDW'
  /** execution ran past the last instruction without EXIT */
  | 'FELL_OFF_END'
  /** a helper failed (its own message, or a host exception it raised, as `cause`) */
  | 'HELPER_FAULT'
  /** the region table is full */
  | 'TOO_MANY_REGIONS';

export interface VmErrorDetails {
  readonly pc?: number;
  readonly insn?: string;
  readonly address?: bigint;
  readonly size?: number;
  readonly region?: string;
  readonly cause?: unknown;
}

export class VmError extends Error {
  override readonly name = 'VmError';
  readonly code: VmErrorCode;
  /** Slot index of the instruction (jump-offset units), when the error belongs to one. */
  readonly pc: number | undefined;
  /** The instruction, disassembled. */
  readonly insn: string | undefined;
  readonly address: bigint | undefined;
  readonly size: number | undefined;
  /** Description of the region the address fell in or near (`input#9 [0xffff800900000000, +8)`). */
  readonly region: string | undefined;
  /** The message without the `pc N (insn): ` prefix. */
  readonly detail: string;
  constructor(code: VmErrorCode, detail: string, d: VmErrorDetails = {}) {
    const where = d.pc === undefined ? '' : `pc ${d.pc}${d.insn ? ` (${d.insn})` : ''}: `;
    super(`${where}${detail}`, d.cause === undefined ? undefined : { cause: d.cause });
    this.code = code;
    this.detail = detail;
    this.pc = d.pc;
    this.insn = d.insn;
    this.address = d.address;
    this.size = d.size;
    this.region = d.region;
  }
}
