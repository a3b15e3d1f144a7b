/**
 * The later upstream ABI (v6 Jan 2026 / v7 Mar 2026, kernel/bpf/bpf_buffer_parser.c): three kfuncs,
 * registered for BPF_PROG_TYPE_TRACING, called with BPF_PSEUDO_KFUNC_CALL against their BTF ids.
 */

/** include/linux/btf.h kfunc flags (Linux 6.18 values). */
export const KF = {
  ACQUIRE: 1 << 0,
  RELEASE: 1 << 1,
  RET_NULL: 1 << 2,
  /** dropped after 6.18, when trusted arguments became the default */
  TRUSTED_ARGS: 1 << 4,
  SLEEPABLE: 1 << 5,
  DESTRUCTIVE: 1 << 6,
  RCU: 1 << 7,
  ITER_NEW: 1 << 8,
  ITER_NEXT: 1 << 9,
  ITER_DESTROY: 1 << 10,
} as const;
export type KfFlag = keyof typeof KF;

/**
 * How the verifier classifies a kfunc argument (kernel's `enum kfunc_ptr_arg_type` + scalars):
 * - 'scalar': any scalar;
 * - 'btf_id': pointer to a kernel struct (trusted / referenced as the flags demand);
 * - 'mem': pointer to memory of `memSize` bytes (the pointee's size: `char *` without a `__sz`
 *   companion is checked for 1 byte only).
 */
export interface KfuncArg {
  readonly name: string;
  readonly cType: string;
  readonly kind: 'scalar' | 'btf_id' | 'mem';
  readonly memSize?: number;
  readonly btfStruct?: string;
}

export interface Kfunc {
  readonly name: string;
  readonly decl: string;
  readonly ret: { readonly cType: string; readonly kind: 'scalar' | 'btf_id' | 'void'; readonly btfStruct?: string };
  readonly args: readonly KfuncArg[];
  /** flags as registered in v6 */
  readonly flags: readonly KfFlag[];
  /** flags in the later (v7 / post-bot-review) copy, where they differ */
  readonly flagsLater?: readonly KfFlag[];
}

const CTX = 'bpf_parser_context';

export const KEXEC_KFUNCS: readonly Kfunc[] = Object.freeze([
  {
    name: 'bpf_get_parser_context',
    decl: 'struct bpf_parser_context *bpf_get_parser_context(unsigned long id)',
    ret: { cType: 'struct bpf_parser_context *', kind: 'btf_id', btfStruct: CTX },
    args: [{ name: 'id', cType: 'unsigned long', kind: 'scalar' }],
    flags: ['ACQUIRE', 'RET_NULL'],
  },
  {
    name: 'bpf_put_parser_context',
    decl: 'void bpf_put_parser_context(struct bpf_parser_context *ctx)',
    ret: { cType: 'void', kind: 'void' },
    args: [{ name: 'ctx', cType: 'struct bpf_parser_context *', kind: 'btf_id', btfStruct: CTX }],
    flags: ['RELEASE'],
  },
  {
    name: 'bpf_buffer_parser',
    decl: 'int bpf_buffer_parser(char *buf, int buf_sz, struct bpf_parser_context *context)',
    ret: { cType: 'int', kind: 'scalar' },
    args: [
      { name: 'buf', cType: 'char *', kind: 'mem', memSize: 1 },
      { name: 'buf_sz', cType: 'int', kind: 'scalar' },
      { name: 'context', cType: 'struct bpf_parser_context *', kind: 'btf_id', btfStruct: CTX },
    ],
    flags: ['TRUSTED_ARGS', 'SLEEPABLE'],
    flagsLater: ['SLEEPABLE'],
  },
] satisfies Kfunc[]);

export const kfuncByName = (name: string): Kfunc | undefined => KEXEC_KFUNCS.find((k) => k.name === name);

export const kfFlagsValue = (flags: readonly KfFlag[]): number => flags.reduce((v, f) => v | KF[f], 0);
