/** `enum bpf_prog_type` and `enum bpf_attach_type` (include/uapi/linux/bpf.h), up to the newest header. */
import { type EnumRow, enumLookup } from './enum-table.ts';

export const PROG_TYPE_ROWS = [
  { id: 0, name: 'BPF_PROG_TYPE_UNSPEC', short: 'unspec' },
  { id: 1, name: 'BPF_PROG_TYPE_SOCKET_FILTER', short: 'socket_filter' },
  { id: 2, name: 'BPF_PROG_TYPE_KPROBE', short: 'kprobe' },
  { id: 3, name: 'BPF_PROG_TYPE_SCHED_CLS', short: 'sched_cls' },
  { id: 4, name: 'BPF_PROG_TYPE_SCHED_ACT', short: 'sched_act' },
  { id: 5, name: 'BPF_PROG_TYPE_TRACEPOINT', short: 'tracepoint' },
  { id: 6, name: 'BPF_PROG_TYPE_XDP', short: 'xdp' },
  { id: 7, name: 'BPF_PROG_TYPE_PERF_EVENT', short: 'perf_event' },
  { id: 8, name: 'BPF_PROG_TYPE_CGROUP_SKB', short: 'cgroup_skb' },
  { id: 9, name: 'BPF_PROG_TYPE_CGROUP_SOCK', short: 'cgroup_sock' },
  { id: 10, name: 'BPF_PROG_TYPE_LWT_IN', short: 'lwt_in' },
  { id: 11, name: 'BPF_PROG_TYPE_LWT_OUT', short: 'lwt_out' },
  { id: 12, name: 'BPF_PROG_TYPE_LWT_XMIT', short: 'lwt_xmit' },
  { id: 13, name: 'BPF_PROG_TYPE_SOCK_OPS', short: 'sock_ops' },
  { id: 14, name: 'BPF_PROG_TYPE_SK_SKB', short: 'sk_skb' },
  { id: 15, name: 'BPF_PROG_TYPE_CGROUP_DEVICE', short: 'cgroup_device' },
  { id: 16, name: 'BPF_PROG_TYPE_SK_MSG', short: 'sk_msg' },
  { id: 17, name: 'BPF_PROG_TYPE_RAW_TRACEPOINT', short: 'raw_tracepoint' },
  { id: 18, name: 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', short: 'cgroup_sock_addr' },
  { id: 19, name: 'BPF_PROG_TYPE_LWT_SEG6LOCAL', short: 'lwt_seg6local' },
  { id: 20, name: 'BPF_PROG_TYPE_LIRC_MODE2', short: 'lirc_mode2' },
  { id: 21, name: 'BPF_PROG_TYPE_SK_REUSEPORT', short: 'sk_reuseport' },
  { id: 22, name: 'BPF_PROG_TYPE_FLOW_DISSECTOR', short: 'flow_dissector' },
  { id: 23, name: 'BPF_PROG_TYPE_CGROUP_SYSCTL', short: 'cgroup_sysctl' },
  { id: 24, name: 'BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE', short: 'raw_tracepoint_writable' },
  { id: 25, name: 'BPF_PROG_TYPE_CGROUP_SOCKOPT', short: 'cgroup_sockopt' },
  { id: 26, name: 'BPF_PROG_TYPE_TRACING', short: 'tracing' },
  { id: 27, name: 'BPF_PROG_TYPE_STRUCT_OPS', short: 'struct_ops' },
  { id: 28, name: 'BPF_PROG_TYPE_EXT', short: 'ext' },
  { id: 29, name: 'BPF_PROG_TYPE_LSM', short: 'lsm' },
  { id: 30, name: 'BPF_PROG_TYPE_SK_LOOKUP', short: 'sk_lookup' },
  { id: 31, name: 'BPF_PROG_TYPE_SYSCALL', short: 'syscall' },
  { id: 32, name: 'BPF_PROG_TYPE_NETFILTER', short: 'netfilter' },
] as const satisfies readonly EnumRow[];

export type ProgTypeName = (typeof PROG_TYPE_ROWS)[number]['name'];
export const PROG_TYPES = enumLookup<EnumRow<ProgTypeName>>(PROG_TYPE_ROWS);

export const BPF_PROG_TYPE = Object.freeze(
  Object.fromEntries(PROG_TYPE_ROWS.map((r) => [r.name.slice('BPF_PROG_TYPE_'.length), r.id])),
) as Readonly<Record<ProgTypeName extends `BPF_PROG_TYPE_${infer S}` ? S : never, number>>;

export const ATTACH_TYPE_ROWS = [
  { id: 0, name: 'BPF_CGROUP_INET_INGRESS', short: 'cgroup_inet_ingress' },
  { id: 1, name: 'BPF_CGROUP_INET_EGRESS', short: 'cgroup_inet_egress' },
  { id: 2, name: 'BPF_CGROUP_INET_SOCK_CREATE', short: 'cgroup_inet_sock_create' },
  { id: 3, name: 'BPF_CGROUP_SOCK_OPS', short: 'cgroup_sock_ops' },
  { id: 4, name: 'BPF_SK_SKB_STREAM_PARSER', short: 'sk_skb_stream_parser' },
  { id: 5, name: 'BPF_SK_SKB_STREAM_VERDICT', short: 'sk_skb_stream_verdict' },
  { id: 6, name: 'BPF_CGROUP_DEVICE', short: 'cgroup_device' },
  { id: 7, name: 'BPF_SK_MSG_VERDICT', short: 'sk_msg_verdict' },
  { id: 8, name: 'BPF_CGROUP_INET4_BIND', short: 'cgroup_inet4_bind' },
  { id: 9, name: 'BPF_CGROUP_INET6_BIND', short: 'cgroup_inet6_bind' },
  { id: 10, name: 'BPF_CGROUP_INET4_CONNECT', short: 'cgroup_inet4_connect' },
  { id: 11, name: 'BPF_CGROUP_INET6_CONNECT', short: 'cgroup_inet6_connect' },
  { id: 12, name: 'BPF_CGROUP_INET4_POST_BIND', short: 'cgroup_inet4_post_bind' },
  { id: 13, name: 'BPF_CGROUP_INET6_POST_BIND', short: 'cgroup_inet6_post_bind' },
  { id: 14, name: 'BPF_CGROUP_UDP4_SENDMSG', short: 'cgroup_udp4_sendmsg' },
  { id: 15, name: 'BPF_CGROUP_UDP6_SENDMSG', short: 'cgroup_udp6_sendmsg' },
  { id: 16, name: 'BPF_LIRC_MODE2', short: 'lirc_mode2' },
  { id: 17, name: 'BPF_FLOW_DISSECTOR', short: 'flow_dissector' },
  { id: 18, name: 'BPF_CGROUP_SYSCTL', short: 'cgroup_sysctl' },
  { id: 19, name: 'BPF_CGROUP_UDP4_RECVMSG', short: 'cgroup_udp4_recvmsg' },
  { id: 20, name: 'BPF_CGROUP_UDP6_RECVMSG', short: 'cgroup_udp6_recvmsg' },
  { id: 21, name: 'BPF_CGROUP_GETSOCKOPT', short: 'cgroup_getsockopt' },
  { id: 22, name: 'BPF_CGROUP_SETSOCKOPT', short: 'cgroup_setsockopt' },
  { id: 23, name: 'BPF_TRACE_RAW_TP', short: 'trace_raw_tp' },
  { id: 24, name: 'BPF_TRACE_FENTRY', short: 'trace_fentry' },
  { id: 25, name: 'BPF_TRACE_FEXIT', short: 'trace_fexit' },
  { id: 26, name: 'BPF_MODIFY_RETURN', short: 'modify_return' },
  { id: 27, name: 'BPF_LSM_MAC', short: 'lsm_mac' },
  { id: 28, name: 'BPF_TRACE_ITER', short: 'trace_iter' },
  { id: 29, name: 'BPF_CGROUP_INET4_GETPEERNAME', short: 'cgroup_inet4_getpeername' },
  { id: 30, name: 'BPF_CGROUP_INET6_GETPEERNAME', short: 'cgroup_inet6_getpeername' },
  { id: 31, name: 'BPF_CGROUP_INET4_GETSOCKNAME', short: 'cgroup_inet4_getsockname' },
  { id: 32, name: 'BPF_CGROUP_INET6_GETSOCKNAME', short: 'cgroup_inet6_getsockname' },
  { id: 33, name: 'BPF_XDP_DEVMAP', short: 'xdp_devmap' },
  { id: 34, name: 'BPF_CGROUP_INET_SOCK_RELEASE', short: 'cgroup_inet_sock_release' },
  { id: 35, name: 'BPF_XDP_CPUMAP', short: 'xdp_cpumap' },
  { id: 36, name: 'BPF_SK_LOOKUP', short: 'sk_lookup' },
  { id: 37, name: 'BPF_XDP', short: 'xdp' },
  { id: 38, name: 'BPF_SK_SKB_VERDICT', short: 'sk_skb_verdict' },
  { id: 39, name: 'BPF_SK_REUSEPORT_SELECT', short: 'sk_reuseport_select' },
  { id: 40, name: 'BPF_SK_REUSEPORT_SELECT_OR_MIGRATE', short: 'sk_reuseport_select_or_migrate' },
  { id: 41, name: 'BPF_PERF_EVENT', short: 'perf_event' },
  { id: 42, name: 'BPF_TRACE_KPROBE_MULTI', short: 'trace_kprobe_multi' },
  { id: 43, name: 'BPF_LSM_CGROUP', short: 'lsm_cgroup' },
  { id: 44, name: 'BPF_STRUCT_OPS', short: 'struct_ops' },
  { id: 45, name: 'BPF_NETFILTER', short: 'netfilter' },
  { id: 46, name: 'BPF_TCX_INGRESS', short: 'tcx_ingress' },
  { id: 47, name: 'BPF_TCX_EGRESS', short: 'tcx_egress' },
  { id: 48, name: 'BPF_TRACE_UPROBE_MULTI', short: 'trace_uprobe_multi' },
  { id: 49, name: 'BPF_CGROUP_UNIX_CONNECT', short: 'cgroup_unix_connect' },
  { id: 50, name: 'BPF_CGROUP_UNIX_SENDMSG', short: 'cgroup_unix_sendmsg' },
  { id: 51, name: 'BPF_CGROUP_UNIX_RECVMSG', short: 'cgroup_unix_recvmsg' },
  { id: 52, name: 'BPF_CGROUP_UNIX_GETPEERNAME', short: 'cgroup_unix_getpeername' },
  { id: 53, name: 'BPF_CGROUP_UNIX_GETSOCKNAME', short: 'cgroup_unix_getsockname' },
  { id: 54, name: 'BPF_NETKIT_PRIMARY', short: 'netkit_primary' },
  { id: 55, name: 'BPF_NETKIT_PEER', short: 'netkit_peer' },
  { id: 56, name: 'BPF_TRACE_KPROBE_SESSION', short: 'trace_kprobe_session' },
  { id: 57, name: 'BPF_TRACE_UPROBE_SESSION', short: 'trace_uprobe_session' },
  { id: 58, name: 'BPF_TRACE_FSESSION', short: 'trace_fsession', since: '7.0' },
  { id: 59, name: 'BPF_TRACE_FENTRY_MULTI', short: 'trace_fentry_multi', since: 'bpf-next (2026-06)' },
  { id: 60, name: 'BPF_TRACE_FEXIT_MULTI', short: 'trace_fexit_multi', since: 'bpf-next (2026-06)' },
  { id: 61, name: 'BPF_TRACE_FSESSION_MULTI', short: 'trace_fsession_multi', since: 'bpf-next (2026-06)' },
] as const satisfies readonly EnumRow[];

export type AttachTypeName = (typeof ATTACH_TYPE_ROWS)[number]['name'];
export const ATTACH_TYPES = enumLookup<EnumRow<AttachTypeName>>(ATTACH_TYPE_ROWS);

/** `BPF_ATTACH_TYPE.BPF_TRACE_FENTRY === 24` (attach types keep their full kernel names). */
export const BPF_ATTACH_TYPE = Object.freeze(
  Object.fromEntries(ATTACH_TYPE_ROWS.map((r) => [r.name, r.id])),
) as Readonly<Record<AttachTypeName, number>>;

/**
 * Program types whose helpers come from the tracing function-proto family (kprobe, tracepoint,
 * perf_event, raw_tp, fentry/fexit/fmod_ret/iter, LSM): where `bpf_probe_read*` and friends exist.
 */
export const TRACING_PROG_TYPES = [
  'BPF_PROG_TYPE_KPROBE',
  'BPF_PROG_TYPE_TRACEPOINT',
  'BPF_PROG_TYPE_PERF_EVENT',
  'BPF_PROG_TYPE_RAW_TRACEPOINT',
  'BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE',
  'BPF_PROG_TYPE_TRACING',
  'BPF_PROG_TYPE_LSM',
] as const satisfies readonly ProgTypeName[];
