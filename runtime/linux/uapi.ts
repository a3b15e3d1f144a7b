/**
 * The few numbers of the kernel's bpf(2) UAPI the bridge needs (include/uapi/linux/bpf.h): commands,
 * program and map types, attach types, and the byte offsets of `union bpf_attr` fields per command
 * (measured on this project's machine, see the README). Type ids come from bpf/abi, their one definition.
 */
import { BPF_ATTACH_TYPE, BPF_MAP_TYPE, BPF_PROG_TYPE } from '../../bpf/abi/index.ts';

/** x86-64 syscall number of bpf(2). */
export const SYS_BPF = 321;

export const BpfCmd = {
  MAP_CREATE: 0,
  MAP_LOOKUP_ELEM: 1,
  MAP_UPDATE_ELEM: 2,
  PROG_LOAD: 5,
  PROG_TEST_RUN: 10,
} as const;
export type BpfCmdName = keyof typeof BpfCmd;

/** Program, map and attach type ids: the ones defined in bpf/abi, under the names the bridge uses. */
export const ProgType = BPF_PROG_TYPE;
export const MapType = BPF_MAP_TYPE;
export const AttachType = {
  /** expected_attach_type 0: none given (the value of BPF_CGROUP_INET_INGRESS, as in the uapi). */
  NONE: 0,
  XDP: BPF_ATTACH_TYPE.BPF_XDP,
} as const;

/** Sizes of the zero-filled attr buffers passed per command (the kernel wants the tail zero). */
export const AttrSize = { MAP_CREATE: 72, MAP_ELEM: 32, PROG_LOAD: 152, PROG_TEST_RUN: 80 } as const;

export const MapCreateAttr = {
  map_type: 0,
  key_size: 4,
  value_size: 8,
  max_entries: 12,
  map_flags: 16,
  map_name: 28,
} as const;

export const MapElemAttr = { map_fd: 0, key: 8, value: 16, flags: 24 } as const;

export const ProgLoadAttr = {
  prog_type: 0,
  insn_cnt: 4,
  insns: 8,
  license: 16,
  log_level: 24,
  log_size: 28,
  log_buf: 32,
  kern_version: 40,
  prog_flags: 44,
  prog_name: 48,
  prog_ifindex: 64,
  expected_attach_type: 68,
  log_true_size: 140,
} as const;

export const TestRunAttr = {
  prog_fd: 0,
  retval: 4,
  data_size_in: 8,
  data_size_out: 12,
  data_in: 16,
  data_out: 24,
  repeat: 32,
  duration: 36,
  ctx_size_in: 40,
  ctx_size_out: 44,
  ctx_in: 48,
  ctx_out: 56,
  flags: 64,
  cpu: 68,
  batch_size: 72,
} as const;

/** Names for bpf_attr.prog_name: at most 15 bytes plus NUL, [A-Za-z0-9_.]. */
export const OBJ_NAME_LEN = 16;
