/**
 * Program-type policy, kept apart from the analysis: what the context pointer gives access to, and
 * what R0 must hold at exit. One ProgramPolicy per program type we model.
 */
import type { RegBase } from '../state/reg.ts';

/** What a valid context load produces. */
export type CtxLoad =
  | { readonly kind: 'scalar' }
  | { readonly kind: 'pointer'; readonly type: RegBase; readonly flags?: number; readonly btfName?: string };

export interface CtxAccess {
  readonly off: number;
  readonly size: number;
  readonly write: boolean;
}

export interface ProgramPolicy {
  /** Kernel program type name (socket_filter, xdp, tracing, syscall). */
  readonly name: string;
  /** BPF_PROG_TYPE_* number. */
  readonly progType: number;
  /** is_valid_access: undefined when the access is not allowed. */
  readonly ctxAccess: (a: CtxAccess) => CtxLoad | undefined;
  /** Allowed R0 range at the main program's exit, or undefined when anything goes. */
  readonly retRange: readonly [number, number] | undefined;
  /** Legacy LD_ABS/LD_IND allowed (ctx is an skb). */
  readonly ldAbs: boolean;
  /**
   * Which helper family get_func_proto offers: 'base' (bpf_base_func_proto: networking types) or
   * 'tracing' (the tracing family, which syscall programs share).
   */
  readonly helpers: 'base' | 'tracing';
  /** Helpers with pkt_access may be given packet pointers (may_access_direct_pkt_data). */
  readonly directPacketAccess?: boolean;
  /** No convert_ctx_access: helpers access the context as plain bytes (syscall programs). */
  readonly ctxRawHelperAccess?: boolean;
  /** The attach target's name (tracing programs), which gates target-specific helpers. */
  readonly attachTarget?: string;
}
