/** The shape of a helper prototype: Linux's `struct bpf_func_proto`, plus where the helper may be called. */
import type { ArgType, RetType } from './arg-types.ts';
import type { HelperName } from './helper-ids.ts';

/**
 * Which programs get the helper from their `get_func_proto()`:
 * - 'all': `bpf_base_func_proto()`, every program type (subject to `capability`);
 * - 'tracing': the tracing family only (see TRACING_PROG_TYPES);
 * - 'kexec-hook': BPF_PROG_TYPE_TRACING programs attached to one of `hooks` (the proposal's helpers,
 *   gated the way the kernel gates bpf_d_path, with a `.allowed` callback on the attach target);
 * - 'net': the networking program types in `types` (BPF_PROG_TYPE_* numbers) whose func_proto in
 *   net/core/filter.c offers it.
 */
export type HelperScope =
  | { readonly progTypes: 'all'; readonly capability?: 'CAP_BPF' | 'CAP_PERFMON' }
  | { readonly progTypes: 'tracing'; readonly capability?: 'CAP_PERFMON' }
  | { readonly progTypes: 'net'; readonly types: readonly number[] }
  | { readonly progTypes: 'kexec-hook'; readonly hooks: readonly string[] };

export interface HelperProto {
  readonly id: number;
  readonly name: HelperName;
  /** The C declaration (uapi bpf.h documentation style). */
  readonly decl: string;
  readonly ret: RetType;
  /** arg1_type..arg5_type; trailing ARG_DONTCARE slots are left out. */
  readonly args: readonly ArgType[];
  readonly gplOnly: boolean;
  /** Callable only from sleepable programs (`might_sleep`). */
  readonly mightSleep: boolean;
  readonly pktAccess: boolean;
  /** bpf_fastcall contract (`allow_fastcall`). */
  readonly allowFastcall: boolean;
  /** bpf_helper_changes_pkt_data: the call moves the packet, so every packet pointer is invalidated. */
  readonly changesPktData: boolean;
  readonly scope: HelperScope;
  /** 'linux' = Linux 6.18's prototype; 'proposed' = this project's proposal (docs/ABI.md). */
  readonly origin: 'linux' | 'proposed';
}

/** Builder with the kernel's defaults (a zero-initialised struct bpf_func_proto). */
export const proto = (
  p: Pick<HelperProto, 'id' | 'name' | 'decl' | 'ret' | 'args' | 'scope' | 'origin'> &
    Partial<Pick<HelperProto, 'gplOnly' | 'mightSleep' | 'pktAccess' | 'allowFastcall' | 'changesPktData'>>,
): HelperProto =>
  Object.freeze({
    gplOnly: false,
    mightSleep: false,
    pktAccess: false,
    allowFastcall: false,
    changesPktData: false,
    ...p,
  });
