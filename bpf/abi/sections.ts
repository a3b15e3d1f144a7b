/**
 * libbpf's SEC() name → program type / expected attach type table (`section_defs[]` in
 * tools/lib/bpf/libbpf.c, newest libbpf), and its matching rules:
 * - a pattern ending in `/` matches any name with that prefix (`tc/` style; none left today),
 * - a pattern ending in `+` matches the exact word or the word followed by `/anything`
 *   (`kprobe` and `kprobe/do_unlinkat`, but not `kprobex`),
 * - any other pattern matches exactly;
 * - rows are tried in order, first match wins (so `tc/ingress` precedes `tc`);
 * - a leading `?` is not part of the name: the program just starts with autoload off.
 */
import { ATTACH_TYPES, type AttachTypeName, PROG_TYPES, type ProgTypeName } from './prog-types.ts';

/** `enum sec_def_flags` (SEC_ATTACHABLE_OPT is written as SEC_ATTACHABLE + SEC_EXP_ATTACH_OPT). */
export type SecFlag =
  /** expected_attach_type may be dropped on kernels that do not know it */
  | 'SEC_EXP_ATTACH_OPT'
  /** legacy BPF_PROG_ATTACH marker */
  | 'SEC_ATTACHABLE'
  /** attach target named after the `/` is resolved through BTF */
  | 'SEC_ATTACH_BTF'
  /** loaded with BPF_F_SLEEPABLE (the `.s` variants) */
  | 'SEC_SLEEPABLE'
  /** loaded with BPF_F_XDP_HAS_FRAGS */
  | 'SEC_XDP_FRAGS'
  /** usdt: switched to BPF_TRACE_UPROBE_MULTI when the kernel has uprobe_multi links */
  | 'SEC_USDT';

type ProgShort = ProgTypeName extends `BPF_PROG_TYPE_${infer S}` ? S : never;
type Row = readonly [pattern: string, prog: ProgShort, attach: AttachTypeName | null, flags: readonly SecFlag[]];

const ROWS = [
  ['socket', 'SOCKET_FILTER', null, []],
  ['sk_reuseport/migrate', 'SK_REUSEPORT', 'BPF_SK_REUSEPORT_SELECT_OR_MIGRATE', ['SEC_ATTACHABLE']],
  ['sk_reuseport', 'SK_REUSEPORT', 'BPF_SK_REUSEPORT_SELECT', ['SEC_ATTACHABLE']],
  ['kprobe+', 'KPROBE', null, []],
  ['uprobe+', 'KPROBE', null, []],
  ['uprobe.s+', 'KPROBE', null, ['SEC_SLEEPABLE']],
  ['kretprobe+', 'KPROBE', null, []],
  ['uretprobe+', 'KPROBE', null, []],
  ['uretprobe.s+', 'KPROBE', null, ['SEC_SLEEPABLE']],
  ['kprobe.multi+', 'KPROBE', 'BPF_TRACE_KPROBE_MULTI', []],
  ['kretprobe.multi+', 'KPROBE', 'BPF_TRACE_KPROBE_MULTI', []],
  ['kprobe.session+', 'KPROBE', 'BPF_TRACE_KPROBE_SESSION', []],
  ['uprobe.multi+', 'KPROBE', 'BPF_TRACE_UPROBE_MULTI', []],
  ['uretprobe.multi+', 'KPROBE', 'BPF_TRACE_UPROBE_MULTI', []],
  ['uprobe.session+', 'KPROBE', 'BPF_TRACE_UPROBE_SESSION', []],
  ['uprobe.multi.s+', 'KPROBE', 'BPF_TRACE_UPROBE_MULTI', ['SEC_SLEEPABLE']],
  ['uretprobe.multi.s+', 'KPROBE', 'BPF_TRACE_UPROBE_MULTI', ['SEC_SLEEPABLE']],
  ['uprobe.session.s+', 'KPROBE', 'BPF_TRACE_UPROBE_SESSION', ['SEC_SLEEPABLE']],
  ['ksyscall+', 'KPROBE', null, []],
  ['kretsyscall+', 'KPROBE', null, []],
  ['usdt+', 'KPROBE', null, ['SEC_USDT']],
  ['usdt.s+', 'KPROBE', null, ['SEC_USDT', 'SEC_SLEEPABLE']],
  ['tc/ingress', 'SCHED_CLS', 'BPF_TCX_INGRESS', []],
  ['tc/egress', 'SCHED_CLS', 'BPF_TCX_EGRESS', []],
  ['tcx/ingress', 'SCHED_CLS', 'BPF_TCX_INGRESS', []],
  ['tcx/egress', 'SCHED_CLS', 'BPF_TCX_EGRESS', []],
  ['tc', 'SCHED_CLS', null, []],
  ['classifier', 'SCHED_CLS', null, []],
  ['action', 'SCHED_ACT', null, []],
  ['netkit/primary', 'SCHED_CLS', 'BPF_NETKIT_PRIMARY', []],
  ['netkit/peer', 'SCHED_CLS', 'BPF_NETKIT_PEER', []],
  ['tracepoint+', 'TRACEPOINT', null, []],
  ['tp+', 'TRACEPOINT', null, []],
  ['tracepoint.s+', 'TRACEPOINT', null, ['SEC_SLEEPABLE']],
  ['tp.s+', 'TRACEPOINT', null, ['SEC_SLEEPABLE']],
  ['raw_tracepoint+', 'RAW_TRACEPOINT', null, []],
  ['raw_tp+', 'RAW_TRACEPOINT', null, []],
  ['raw_tracepoint.s+', 'RAW_TRACEPOINT', null, ['SEC_SLEEPABLE']],
  ['raw_tp.s+', 'RAW_TRACEPOINT', null, ['SEC_SLEEPABLE']],
  ['raw_tracepoint.w+', 'RAW_TRACEPOINT_WRITABLE', null, []],
  ['raw_tp.w+', 'RAW_TRACEPOINT_WRITABLE', null, []],
  ['tp_btf+', 'TRACING', 'BPF_TRACE_RAW_TP', ['SEC_ATTACH_BTF']],
  ['tp_btf.s+', 'TRACING', 'BPF_TRACE_RAW_TP', ['SEC_ATTACH_BTF', 'SEC_SLEEPABLE']],
  ['fentry+', 'TRACING', 'BPF_TRACE_FENTRY', ['SEC_ATTACH_BTF']],
  ['fmod_ret+', 'TRACING', 'BPF_MODIFY_RETURN', ['SEC_ATTACH_BTF']],
  ['fexit+', 'TRACING', 'BPF_TRACE_FEXIT', ['SEC_ATTACH_BTF']],
  ['fentry.s+', 'TRACING', 'BPF_TRACE_FENTRY', ['SEC_ATTACH_BTF', 'SEC_SLEEPABLE']],
  ['fmod_ret.s+', 'TRACING', 'BPF_MODIFY_RETURN', ['SEC_ATTACH_BTF', 'SEC_SLEEPABLE']],
  ['fexit.s+', 'TRACING', 'BPF_TRACE_FEXIT', ['SEC_ATTACH_BTF', 'SEC_SLEEPABLE']],
  ['fsession+', 'TRACING', 'BPF_TRACE_FSESSION', ['SEC_ATTACH_BTF']],
  ['fsession.s+', 'TRACING', 'BPF_TRACE_FSESSION', ['SEC_ATTACH_BTF', 'SEC_SLEEPABLE']],
  ['fsession.multi+', 'TRACING', 'BPF_TRACE_FSESSION_MULTI', []],
  ['fsession.multi.s+', 'TRACING', 'BPF_TRACE_FSESSION_MULTI', ['SEC_SLEEPABLE']],
  ['fentry.multi+', 'TRACING', 'BPF_TRACE_FENTRY_MULTI', []],
  ['fexit.multi+', 'TRACING', 'BPF_TRACE_FEXIT_MULTI', []],
  ['fentry.multi.s+', 'TRACING', 'BPF_TRACE_FENTRY_MULTI', ['SEC_SLEEPABLE']],
  ['fexit.multi.s+', 'TRACING', 'BPF_TRACE_FEXIT_MULTI', ['SEC_SLEEPABLE']],
  ['freplace+', 'EXT', null, ['SEC_ATTACH_BTF']],
  ['lsm+', 'LSM', 'BPF_LSM_MAC', ['SEC_ATTACH_BTF']],
  ['lsm.s+', 'LSM', 'BPF_LSM_MAC', ['SEC_ATTACH_BTF', 'SEC_SLEEPABLE']],
  ['lsm_cgroup+', 'LSM', 'BPF_LSM_CGROUP', ['SEC_ATTACH_BTF']],
  ['iter+', 'TRACING', 'BPF_TRACE_ITER', ['SEC_ATTACH_BTF']],
  ['iter.s+', 'TRACING', 'BPF_TRACE_ITER', ['SEC_ATTACH_BTF', 'SEC_SLEEPABLE']],
  ['syscall', 'SYSCALL', null, ['SEC_SLEEPABLE']],
  ['xdp.frags/devmap', 'XDP', 'BPF_XDP_DEVMAP', ['SEC_XDP_FRAGS']],
  ['xdp/devmap', 'XDP', 'BPF_XDP_DEVMAP', ['SEC_ATTACHABLE']],
  ['xdp.frags/cpumap', 'XDP', 'BPF_XDP_CPUMAP', ['SEC_XDP_FRAGS']],
  ['xdp/cpumap', 'XDP', 'BPF_XDP_CPUMAP', ['SEC_ATTACHABLE']],
  ['xdp.frags', 'XDP', 'BPF_XDP', ['SEC_XDP_FRAGS']],
  ['xdp', 'XDP', 'BPF_XDP', ['SEC_ATTACHABLE', 'SEC_EXP_ATTACH_OPT']],
  ['perf_event', 'PERF_EVENT', null, []],
  ['lwt_in', 'LWT_IN', null, []],
  ['lwt_out', 'LWT_OUT', null, []],
  ['lwt_xmit', 'LWT_XMIT', null, []],
  ['lwt_seg6local', 'LWT_SEG6LOCAL', null, []],
  ['sockops', 'SOCK_OPS', 'BPF_CGROUP_SOCK_OPS', ['SEC_ATTACHABLE', 'SEC_EXP_ATTACH_OPT']],
  ['sk_skb/stream_parser', 'SK_SKB', 'BPF_SK_SKB_STREAM_PARSER', ['SEC_ATTACHABLE', 'SEC_EXP_ATTACH_OPT']],
  ['sk_skb/stream_verdict', 'SK_SKB', 'BPF_SK_SKB_STREAM_VERDICT', ['SEC_ATTACHABLE', 'SEC_EXP_ATTACH_OPT']],
  ['sk_skb/verdict', 'SK_SKB', 'BPF_SK_SKB_VERDICT', ['SEC_ATTACHABLE', 'SEC_EXP_ATTACH_OPT']],
  ['sk_skb', 'SK_SKB', null, []],
  ['sk_msg', 'SK_MSG', 'BPF_SK_MSG_VERDICT', ['SEC_ATTACHABLE', 'SEC_EXP_ATTACH_OPT']],
  ['lirc_mode2', 'LIRC_MODE2', 'BPF_LIRC_MODE2', ['SEC_ATTACHABLE', 'SEC_EXP_ATTACH_OPT']],
  ['flow_dissector', 'FLOW_DISSECTOR', 'BPF_FLOW_DISSECTOR', ['SEC_ATTACHABLE', 'SEC_EXP_ATTACH_OPT']],
  ['cgroup_skb/ingress', 'CGROUP_SKB', 'BPF_CGROUP_INET_INGRESS', ['SEC_ATTACHABLE', 'SEC_EXP_ATTACH_OPT']],
  ['cgroup_skb/egress', 'CGROUP_SKB', 'BPF_CGROUP_INET_EGRESS', ['SEC_ATTACHABLE', 'SEC_EXP_ATTACH_OPT']],
  ['cgroup/skb', 'CGROUP_SKB', null, []],
  ['cgroup/sock_create', 'CGROUP_SOCK', 'BPF_CGROUP_INET_SOCK_CREATE', ['SEC_ATTACHABLE']],
  ['cgroup/sock_release', 'CGROUP_SOCK', 'BPF_CGROUP_INET_SOCK_RELEASE', ['SEC_ATTACHABLE']],
  ['cgroup/sock', 'CGROUP_SOCK', 'BPF_CGROUP_INET_SOCK_CREATE', ['SEC_ATTACHABLE', 'SEC_EXP_ATTACH_OPT']],
  ['cgroup/post_bind4', 'CGROUP_SOCK', 'BPF_CGROUP_INET4_POST_BIND', ['SEC_ATTACHABLE']],
  ['cgroup/post_bind6', 'CGROUP_SOCK', 'BPF_CGROUP_INET6_POST_BIND', ['SEC_ATTACHABLE']],
  ['cgroup/bind4', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET4_BIND', ['SEC_ATTACHABLE']],
  ['cgroup/bind6', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET6_BIND', ['SEC_ATTACHABLE']],
  ['cgroup/connect4', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET4_CONNECT', ['SEC_ATTACHABLE']],
  ['cgroup/connect6', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET6_CONNECT', ['SEC_ATTACHABLE']],
  ['cgroup/connect_unix', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_UNIX_CONNECT', ['SEC_ATTACHABLE']],
  ['cgroup/sendmsg4', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_UDP4_SENDMSG', ['SEC_ATTACHABLE']],
  ['cgroup/sendmsg6', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_UDP6_SENDMSG', ['SEC_ATTACHABLE']],
  ['cgroup/sendmsg_unix', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_UNIX_SENDMSG', ['SEC_ATTACHABLE']],
  ['cgroup/recvmsg4', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_UDP4_RECVMSG', ['SEC_ATTACHABLE']],
  ['cgroup/recvmsg6', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_UDP6_RECVMSG', ['SEC_ATTACHABLE']],
  ['cgroup/recvmsg_unix', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_UNIX_RECVMSG', ['SEC_ATTACHABLE']],
  ['cgroup/getpeername4', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET4_GETPEERNAME', ['SEC_ATTACHABLE']],
  ['cgroup/getpeername6', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET6_GETPEERNAME', ['SEC_ATTACHABLE']],
  ['cgroup/getpeername_unix', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_UNIX_GETPEERNAME', ['SEC_ATTACHABLE']],
  ['cgroup/getsockname4', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET4_GETSOCKNAME', ['SEC_ATTACHABLE']],
  ['cgroup/getsockname6', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET6_GETSOCKNAME', ['SEC_ATTACHABLE']],
  ['cgroup/getsockname_unix', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_UNIX_GETSOCKNAME', ['SEC_ATTACHABLE']],
  ['cgroup/sysctl', 'CGROUP_SYSCTL', 'BPF_CGROUP_SYSCTL', ['SEC_ATTACHABLE']],
  ['cgroup/getsockopt', 'CGROUP_SOCKOPT', 'BPF_CGROUP_GETSOCKOPT', ['SEC_ATTACHABLE']],
  ['cgroup/setsockopt', 'CGROUP_SOCKOPT', 'BPF_CGROUP_SETSOCKOPT', ['SEC_ATTACHABLE']],
  ['cgroup/dev', 'CGROUP_DEVICE', 'BPF_CGROUP_DEVICE', ['SEC_ATTACHABLE', 'SEC_EXP_ATTACH_OPT']],
  ['struct_ops+', 'STRUCT_OPS', null, []],
  ['struct_ops.s+', 'STRUCT_OPS', null, ['SEC_SLEEPABLE']],
  ['sk_lookup', 'SK_LOOKUP', 'BPF_SK_LOOKUP', ['SEC_ATTACHABLE']],
  ['netfilter', 'NETFILTER', 'BPF_NETFILTER', []],
] as const satisfies readonly Row[];

export interface SectionDef {
  readonly pattern: string;
  readonly progType: ProgTypeName;
  readonly expectedAttachType: AttachTypeName | null;
  readonly flags: readonly SecFlag[];
}

export const SECTION_DEFS: readonly SectionDef[] = ROWS.map(([pattern, prog, attach, flags]) =>
  Object.freeze({ pattern, progType: `BPF_PROG_TYPE_${prog}` as ProgTypeName, expectedAttachType: attach, flags }),
);

export interface SectionMatch {
  /** The section name as written, including a `?` prefix. */
  readonly section: string;
  readonly def: SectionDef;
  readonly progType: ProgTypeName;
  readonly progTypeId: number;
  /** null where libbpf leaves expected_attach_type at 0 (which the kernel ignores for that type). */
  readonly expectedAttachType: AttachTypeName | null;
  /** The value for bpf_attr.expected_attach_type (0 when none). */
  readonly expectedAttachTypeId: number;
  readonly sleepable: boolean;
  readonly xdpFrags: boolean;
  /** false for `?`-prefixed sections */
  readonly autoload: boolean;
  /** The text after the first `/` (kprobe function, fentry target, tracepoint category/name), if any. */
  readonly target: string | undefined;
}

export const sectionDefMatches = (pattern: string, name: string): boolean => {
  if (pattern.endsWith('/')) return name.startsWith(pattern);
  if (pattern.endsWith('+')) {
    const word = pattern.slice(0, -1);
    return name === word || name.startsWith(`${word}/`);
  }
  return name === pattern;
};

const idOf = <T extends { readonly id: number } | undefined>(row: T, what: string): number => {
  if (row === undefined) throw new Error(`section table names an unknown ${what}`);
  return row.id;
};

/** libbpf's find_sec_def() plus what libbpf derives from the match; undefined for unknown sections. */
export const progTypeForSection = (section: string): SectionMatch | undefined => {
  const autoload = !section.startsWith('?');
  const name = autoload ? section : section.slice(1);
  const def = SECTION_DEFS.find((d) => sectionDefMatches(d.pattern, name));
  if (def === undefined) return undefined;
  const slash = name.indexOf('/');
  return {
    section,
    def,
    progType: def.progType,
    progTypeId: idOf(PROG_TYPES.byName(def.progType), 'program type'),
    expectedAttachType: def.expectedAttachType,
    expectedAttachTypeId:
      def.expectedAttachType === null ? 0 : idOf(ATTACH_TYPES.byName(def.expectedAttachType), 'attach type'),
    sleepable: def.flags.includes('SEC_SLEEPABLE'),
    xdpFrags: def.flags.includes('SEC_XDP_FRAGS'),
    autoload,
    target: slash < 0 ? undefined : name.slice(slash + 1),
  };
};
