import { describe, expect, it } from 'vitest';
import { progTypeForSection, SECTION_DEFS, sectionDefMatches } from '../../../bpf/abi/index.ts';

/** section → [program type, expected attach type, sleepable] as libbpf resolves it */
const CASES: [string, string, string | null, boolean][] = [
  ['socket', 'BPF_PROG_TYPE_SOCKET_FILTER', null, false],
  ['xdp', 'BPF_PROG_TYPE_XDP', 'BPF_XDP', false],
  ['xdp.frags', 'BPF_PROG_TYPE_XDP', 'BPF_XDP', false],
  ['xdp/devmap', 'BPF_PROG_TYPE_XDP', 'BPF_XDP_DEVMAP', false],
  ['tc', 'BPF_PROG_TYPE_SCHED_CLS', null, false],
  ['tc/ingress', 'BPF_PROG_TYPE_SCHED_CLS', 'BPF_TCX_INGRESS', false],
  ['tcx/egress', 'BPF_PROG_TYPE_SCHED_CLS', 'BPF_TCX_EGRESS', false],
  ['classifier', 'BPF_PROG_TYPE_SCHED_CLS', null, false],
  ['kprobe/do_unlinkat', 'BPF_PROG_TYPE_KPROBE', null, false],
  ['kprobe', 'BPF_PROG_TYPE_KPROBE', null, false],
  ['kretprobe/do_sys_open', 'BPF_PROG_TYPE_KPROBE', null, false],
  ['uprobe.s/bin/bash:readline', 'BPF_PROG_TYPE_KPROBE', null, true],
  ['kprobe.multi/vfs_*', 'BPF_PROG_TYPE_KPROBE', 'BPF_TRACE_KPROBE_MULTI', false],
  ['tracepoint/syscalls/sys_enter_openat', 'BPF_PROG_TYPE_TRACEPOINT', null, false],
  ['tp/sched/sched_switch', 'BPF_PROG_TYPE_TRACEPOINT', null, false],
  ['raw_tp/sched_switch', 'BPF_PROG_TYPE_RAW_TRACEPOINT', null, false],
  ['raw_tracepoint.w/bpf_test_finish', 'BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE', null, false],
  ['tp_btf/sched_switch', 'BPF_PROG_TYPE_TRACING', 'BPF_TRACE_RAW_TP', false],
  ['fentry/kexec_pe_parser_hook', 'BPF_PROG_TYPE_TRACING', 'BPF_TRACE_FENTRY', false],
  ['fentry.s/kexec_pe_parser_hook', 'BPF_PROG_TYPE_TRACING', 'BPF_TRACE_FENTRY', true],
  ['fentry.s/kexec_image_parser_anchor', 'BPF_PROG_TYPE_TRACING', 'BPF_TRACE_FENTRY', true],
  ['fexit/do_exit', 'BPF_PROG_TYPE_TRACING', 'BPF_TRACE_FEXIT', false],
  ['fmod_ret/security_file_open', 'BPF_PROG_TYPE_TRACING', 'BPF_MODIFY_RETURN', false],
  ['freplace/handler', 'BPF_PROG_TYPE_EXT', null, false],
  ['lsm/file_open', 'BPF_PROG_TYPE_LSM', 'BPF_LSM_MAC', false],
  ['lsm.s/bprm_committed_creds', 'BPF_PROG_TYPE_LSM', 'BPF_LSM_MAC', true],
  ['iter/task', 'BPF_PROG_TYPE_TRACING', 'BPF_TRACE_ITER', false],
  ['syscall', 'BPF_PROG_TYPE_SYSCALL', null, true],
  ['cgroup_skb/ingress', 'BPF_PROG_TYPE_CGROUP_SKB', 'BPF_CGROUP_INET_INGRESS', false],
  ['cgroup_skb/egress', 'BPF_PROG_TYPE_CGROUP_SKB', 'BPF_CGROUP_INET_EGRESS', false],
  ['cgroup/skb', 'BPF_PROG_TYPE_CGROUP_SKB', null, false],
  ['cgroup/connect4', 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET4_CONNECT', false],
  ['cgroup/dev', 'BPF_PROG_TYPE_CGROUP_DEVICE', 'BPF_CGROUP_DEVICE', false],
  ['perf_event', 'BPF_PROG_TYPE_PERF_EVENT', null, false],
  ['sk_msg', 'BPF_PROG_TYPE_SK_MSG', 'BPF_SK_MSG_VERDICT', false],
  ['sk_lookup', 'BPF_PROG_TYPE_SK_LOOKUP', 'BPF_SK_LOOKUP', false],
  ['struct_ops/dummy', 'BPF_PROG_TYPE_STRUCT_OPS', null, false],
  ['netfilter', 'BPF_PROG_TYPE_NETFILTER', 'BPF_NETFILTER', false],
];

describe('progTypeForSection', () => {
  it.each(CASES)('%s', (section, progType, attach, sleepable) => {
    const m = progTypeForSection(section);
    expect(m?.progType).toBe(progType);
    expect(m?.expectedAttachType).toBe(attach);
    expect(m?.sleepable).toBe(sleepable);
    expect(m?.autoload).toBe(true);
  });

  it('treats a ? prefix as autoload off, not as part of the name', () => {
    const m = progTypeForSection('?fentry.s/kexec_pe_parser_hook');
    expect(m?.autoload).toBe(false);
    expect(m?.sleepable).toBe(true);
    expect(m?.target).toBe('kexec_pe_parser_hook');
    expect(m?.progTypeId).toBe(26);
    expect(m?.expectedAttachTypeId).toBe(24);
  });

  it('gives the numeric values for bpf_attr', () => {
    expect(progTypeForSection('socket')?.expectedAttachTypeId).toBe(0);
    expect(progTypeForSection('xdp')?.progTypeId).toBe(6);
    expect(progTypeForSection('tracepoint/a/b')?.target).toBe('a/b');
  });

  it('rejects what libbpf rejects', () => {
    for (const s of ['kprobex', 'fentryfoo', 'xdp/whatever', 'socket/x', 'tcx', '', '?', '.text', 'license']) {
      expect(progTypeForSection(s), s).toBeUndefined();
    }
    // `lsm+` needs its target: the bare word is fine for libbpf's matcher, the kernel rejects later
    expect(sectionDefMatches('lsm+', 'lsm')).toBe(true);
  });

  it('tries rows in libbpf order', () => {
    const tc = SECTION_DEFS.findIndex((d) => d.pattern === 'tc');
    const tcIngress = SECTION_DEFS.findIndex((d) => d.pattern === 'tc/ingress');
    expect(tcIngress).toBeGreaterThanOrEqual(0);
    expect(tcIngress).toBeLessThan(tc);
    expect(SECTION_DEFS.length).toBe(116);
  });
});
