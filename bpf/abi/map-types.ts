/** `enum bpf_map_type` (include/uapi/linux/bpf.h), every value up to the newest uapi header. */
import { type EnumRow, enumLookup } from './enum-table.ts';

export const MAP_TYPE_ROWS = [
  { id: 0, name: 'BPF_MAP_TYPE_UNSPEC', short: 'unspec' },
  { id: 1, name: 'BPF_MAP_TYPE_HASH', short: 'hash' },
  { id: 2, name: 'BPF_MAP_TYPE_ARRAY', short: 'array' },
  { id: 3, name: 'BPF_MAP_TYPE_PROG_ARRAY', short: 'prog_array' },
  { id: 4, name: 'BPF_MAP_TYPE_PERF_EVENT_ARRAY', short: 'perf_event_array' },
  { id: 5, name: 'BPF_MAP_TYPE_PERCPU_HASH', short: 'percpu_hash' },
  { id: 6, name: 'BPF_MAP_TYPE_PERCPU_ARRAY', short: 'percpu_array' },
  { id: 7, name: 'BPF_MAP_TYPE_STACK_TRACE', short: 'stack_trace' },
  { id: 8, name: 'BPF_MAP_TYPE_CGROUP_ARRAY', short: 'cgroup_array' },
  { id: 9, name: 'BPF_MAP_TYPE_LRU_HASH', short: 'lru_hash' },
  { id: 10, name: 'BPF_MAP_TYPE_LRU_PERCPU_HASH', short: 'lru_percpu_hash' },
  { id: 11, name: 'BPF_MAP_TYPE_LPM_TRIE', short: 'lpm_trie' },
  { id: 12, name: 'BPF_MAP_TYPE_ARRAY_OF_MAPS', short: 'array_of_maps' },
  { id: 13, name: 'BPF_MAP_TYPE_HASH_OF_MAPS', short: 'hash_of_maps' },
  { id: 14, name: 'BPF_MAP_TYPE_DEVMAP', short: 'devmap' },
  { id: 15, name: 'BPF_MAP_TYPE_SOCKMAP', short: 'sockmap' },
  { id: 16, name: 'BPF_MAP_TYPE_CPUMAP', short: 'cpumap' },
  { id: 17, name: 'BPF_MAP_TYPE_XSKMAP', short: 'xskmap' },
  { id: 18, name: 'BPF_MAP_TYPE_SOCKHASH', short: 'sockhash' },
  {
    id: 19,
    name: 'BPF_MAP_TYPE_CGROUP_STORAGE',
    short: 'cgroup_storage',
    aliases: ['BPF_MAP_TYPE_CGROUP_STORAGE_DEPRECATED'],
  },
  { id: 20, name: 'BPF_MAP_TYPE_REUSEPORT_SOCKARRAY', short: 'reuseport_sockarray' },
  {
    id: 21,
    name: 'BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE',
    short: 'percpu_cgroup_storage',
    aliases: ['BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE_DEPRECATED'],
  },
  { id: 22, name: 'BPF_MAP_TYPE_QUEUE', short: 'queue' },
  { id: 23, name: 'BPF_MAP_TYPE_STACK', short: 'stack' },
  { id: 24, name: 'BPF_MAP_TYPE_SK_STORAGE', short: 'sk_storage' },
  { id: 25, name: 'BPF_MAP_TYPE_DEVMAP_HASH', short: 'devmap_hash' },
  { id: 26, name: 'BPF_MAP_TYPE_STRUCT_OPS', short: 'struct_ops' },
  { id: 27, name: 'BPF_MAP_TYPE_RINGBUF', short: 'ringbuf' },
  { id: 28, name: 'BPF_MAP_TYPE_INODE_STORAGE', short: 'inode_storage' },
  { id: 29, name: 'BPF_MAP_TYPE_TASK_STORAGE', short: 'task_storage' },
  { id: 30, name: 'BPF_MAP_TYPE_BLOOM_FILTER', short: 'bloom_filter' },
  { id: 31, name: 'BPF_MAP_TYPE_USER_RINGBUF', short: 'user_ringbuf' },
  { id: 32, name: 'BPF_MAP_TYPE_CGRP_STORAGE', short: 'cgrp_storage' },
  { id: 33, name: 'BPF_MAP_TYPE_ARENA', short: 'arena' },
  { id: 34, name: 'BPF_MAP_TYPE_INSN_ARRAY', short: 'insn_array', since: '6.19' },
  { id: 35, name: 'BPF_MAP_TYPE_RHASH', short: 'rhash', since: 'bpf-next (2026-06)' },
] as const satisfies readonly EnumRow[];

export type MapTypeName = (typeof MAP_TYPE_ROWS)[number]['name'];
export const MAP_TYPES = enumLookup<EnumRow<MapTypeName>>(MAP_TYPE_ROWS);

/** `BPF_MAP_TYPE.RINGBUF === 27`. */
export const BPF_MAP_TYPE = Object.freeze(
  Object.fromEntries(MAP_TYPE_ROWS.map((r) => [r.name.slice('BPF_MAP_TYPE_'.length), r.id])),
) as Readonly<Record<MapTypeName extends `BPF_MAP_TYPE_${infer S}` ? S : never, number>>;
