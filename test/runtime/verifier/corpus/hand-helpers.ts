/**
 * Hand-written helper-call programs: maps, ring buffers, references, strings, bpf_loop callbacks, and
 * the XDP helpers (one that moves the packet, so packet pointers die; one that takes packet memory).
 */
import { type HandCase, MAPS } from './hand-types.ts';

const M = MAPS;

export const HELPER_CASES: readonly HandCase[] = [
  {
    name: 'lookup_ok',
    maps: M,
    asm: `
  *(u32 *)(r10 - 4) = 0
  r2 = r10
  r2 += -4
  r1 = hash ll
  call bpf_map_lookup_elem
  if r0 == 0 goto l1
  r0 = *(u64 *)(r0 + 0)
l1:
  r0 = 0
  exit`,
  },
  {
    name: 'lookup_nullderef',
    maps: M,
    asm: `
  *(u32 *)(r10 - 4) = 0
  r2 = r10
  r2 += -4
  r1 = hash ll
  call bpf_map_lookup_elem
  r0 = *(u64 *)(r0 + 0)
  r0 = 0
  exit`,
  },
  {
    name: 'lookup_scalar_map',
    maps: M,
    asm: `
  r2 = r10
  r2 += -4
  r1 = 0
  call bpf_map_lookup_elem
  r0 = 0
  exit`,
  },
  {
    name: 'lookup_key_uninit',
    maps: M,
    asm: `
  r2 = r10
  r2 += -4
  r1 = hash ll
  call bpf_map_lookup_elem
  r0 = 0
  exit`,
  },
  {
    name: 'lookup_key_scalar',
    maps: M,
    asm: `
  r2 = 0
  r1 = hash ll
  call bpf_map_lookup_elem
  r0 = 0
  exit`,
  },
  {
    name: 'lookup_key_oob',
    maps: M,
    asm: `
  r2 = r10
  r2 += -2
  r1 = hash ll
  call bpf_map_lookup_elem
  r0 = 0
  exit`,
  },
  {
    name: 'lookup_key_r2_noinit',
    maps: M,
    asm: `
  r1 = hash ll
  call bpf_map_lookup_elem
  r0 = 0
  exit`,
  },
  {
    name: 'value_oob',
    maps: M,
    asm: `
  *(u32 *)(r10 - 4) = 0
  r2 = r10
  r2 += -4
  r1 = arr ll
  call bpf_map_lookup_elem
  if r0 == 0 goto l1
  r0 = *(u64 *)(r0 + 4)
l1:
  r0 = 0
  exit`,
  },
  {
    name: 'update_ok',
    maps: M,
    asm: `
  *(u32 *)(r10 - 4) = 0
  *(u64 *)(r10 - 16) = 0
  r2 = r10
  r2 += -4
  r3 = r10
  r3 += -16
  r1 = hash ll
  r4 = 0
  call bpf_map_update_elem
  exit`,
  },
  {
    name: 'update_val_short',
    maps: M,
    asm: `
  *(u32 *)(r10 - 4) = 0
  r2 = r10
  r2 += -4
  r3 = r10
  r3 += -4
  r1 = hash ll
  r4 = 0
  call bpf_map_update_elem
  exit`,
  },
  {
    name: 'update_r4_ptr',
    maps: M,
    asm: `
  *(u32 *)(r10 - 4) = 0
  *(u64 *)(r10 - 16) = 0
  r2 = r10
  r2 += -4
  r3 = r10
  r3 += -16
  r1 = hash ll
  r4 = r10
  call bpf_map_update_elem
  exit`,
  },
  {
    name: 'rb_ok',
    maps: M,
    asm: `
  r1 = rb ll
  r2 = 16
  r3 = 0
  call bpf_ringbuf_reserve
  if r0 == 0 goto l1
  *(u64 *)(r0 + 8) = 1
  r1 = r0
  r2 = 0
  call bpf_ringbuf_submit
l1:
  r0 = 0
  exit`,
  },
  {
    name: 'rb_leak',
    maps: M,
    asm: `
  r1 = rb ll
  r2 = 16
  r3 = 0
  call bpf_ringbuf_reserve
  if r0 == 0 goto l1
  *(u64 *)(r0 + 8) = 1
l1:
  r0 = 0
  exit`,
  },
  {
    name: 'rb_oob',
    maps: M,
    asm: `
  r1 = rb ll
  r2 = 16
  r3 = 0
  call bpf_ringbuf_reserve
  if r0 == 0 goto l1
  *(u64 *)(r0 + 12) = 1
  r1 = r0
  r2 = 0
  call bpf_ringbuf_discard
l1:
  r0 = 0
  exit`,
  },
  {
    name: 'rb_nonconst',
    maps: M,
    asm: `
  r2 = *(u32 *)(r1 + 0)
  r1 = rb ll
  r3 = 0
  call bpf_ringbuf_reserve
  r0 = 0
  exit`,
  },
  {
    name: 'rb_modified',
    maps: M,
    asm: `
  r1 = rb ll
  r2 = 16
  r3 = 0
  call bpf_ringbuf_reserve
  if r0 == 0 goto l1
  r0 += 8
  r1 = r0
  r2 = 0
  call bpf_ringbuf_submit
l1:
  r0 = 0
  exit`,
  },
  {
    name: 'rb_nullsubmit',
    maps: M,
    asm: `
  r1 = rb ll
  r2 = 16
  r3 = 0
  call bpf_ringbuf_reserve
  r1 = r0
  r2 = 0
  call bpf_ringbuf_submit
  r0 = 0
  exit`,
  },
  {
    name: 'rb_double',
    maps: M,
    asm: `
  r1 = rb ll
  r2 = 16
  r3 = 0
  call bpf_ringbuf_reserve
  if r0 == 0 goto l1
  r6 = r0
  r1 = r0
  r2 = 0
  call bpf_ringbuf_submit
  r1 = r6
  r2 = 0
  call bpf_ringbuf_submit
l1:
  r0 = 0
  exit`,
  },
  {
    name: 'rb_useafter',
    maps: M,
    asm: `
  r1 = rb ll
  r2 = 16
  r3 = 0
  call bpf_ringbuf_reserve
  if r0 == 0 goto l1
  r6 = r0
  r1 = r0
  r2 = 0
  call bpf_ringbuf_submit
  r0 = *(u64 *)(r6 + 0)
l1:
  r0 = 0
  exit`,
  },
  {
    name: 'rb_lookup_wrongmap',
    maps: M,
    asm: `
  *(u32 *)(r10 - 4) = 0
  r2 = r10
  r2 += -4
  r1 = rb ll
  call bpf_map_lookup_elem
  r0 = 0
  exit`,
  },
  {
    name: 'rb_reserve_hash',
    maps: M,
    asm: `
  r1 = hash ll
  r2 = 16
  r3 = 0
  call bpf_ringbuf_reserve
  r0 = 0
  exit`,
  },
  {
    name: 'output_ok',
    maps: M,
    asm: `
  *(u64 *)(r10 - 8) = 0
  r2 = r10
  r2 += -8
  r1 = rb ll
  r3 = 8
  r4 = 0
  call bpf_ringbuf_output
  r0 = 0
  exit`,
  },
  {
    name: 'output_neg',
    maps: M,
    asm: `
  r3 = *(u32 *)(r1 + 0)
  r3 <<= 32
  r3 s>>= 32
  *(u64 *)(r10 - 8) = 0
  r2 = r10
  r2 += -8
  r1 = rb ll
  r4 = 0
  call bpf_ringbuf_output
  r0 = 0
  exit`,
  },
  {
    name: 'output_unbounded',
    maps: M,
    asm: `
  r3 = *(u32 *)(r1 + 0)
  *(u64 *)(r10 - 8) = 0
  r2 = r10
  r2 += -8
  r1 = rb ll
  r4 = 0
  call bpf_ringbuf_output
  r0 = 0
  exit`,
  },
  {
    name: 'output_toolong',
    maps: M,
    asm: `
  *(u64 *)(r10 - 8) = 0
  r2 = r10
  r2 += -8
  r1 = rb ll
  r3 = 16
  r4 = 0
  call bpf_ringbuf_output
  r0 = 0
  exit`,
  },
  {
    name: 'output_uninit',
    maps: M,
    asm: `
  r2 = r10
  r2 += -8
  r1 = rb ll
  r3 = 8
  r4 = 0
  call bpf_ringbuf_output
  r0 = 0
  exit`,
  },
  {
    name: 'output_ctx',
    maps: M,
    asm: `
  r2 = r1
  r1 = rb ll
  r3 = 8
  r4 = 0
  call bpf_ringbuf_output
  r0 = 0
  exit`,
  },
  {
    name: 'printk_zero',
    maps: M,
    asm: `
  *(u64 *)(r10 - 8) = 0
  r1 = r10
  r1 += -8
  r2 = 0
  call bpf_trace_printk
  r0 = 0
  exit`,
  },
  {
    name: 'printk_gpl',
    maps: M,
    license: 'Proprietary',
    asm: `
  *(u64 *)(r10 - 8) = 0
  r1 = r10
  r1 += -8
  r2 = 8
  call bpf_trace_printk
  r0 = 0
  exit`,
  },
  {
    name: 'ktime',
    maps: M,
    asm: `
  call bpf_ktime_get_ns
  r0 = 0
  exit`,
  },
  {
    name: 'invalid_func',
    maps: M,
    asm: `
  call 300
  r0 = 0
  exit`,
  },
  {
    name: 'copy_from_user_socket',
    maps: M,
    asm: `
  call 148
  r0 = 0
  exit`,
  },
  {
    name: 'strncmp_ok',
    maps: M,
    asm: `
  *(u64 *)(r10 - 8) = 0
  r1 = r10
  r1 += -8
  r2 = 8
  r3 = val_ro ll
  call bpf_strncmp
  r0 = 0
  exit`,
  },
  {
    name: 'strncmp_stackstr',
    maps: M,
    asm: `
  *(u64 *)(r10 - 8) = 0
  r1 = r10
  r1 += -8
  r2 = 8
  r3 = r10
  r3 += -8
  call bpf_strncmp
  r0 = 0
  exit`,
  },
  {
    name: 'strncmp_rwmap',
    maps: M,
    asm: `
  *(u32 *)(r10 - 4) = 0
  r2 = r10
  r2 += -4
  r1 = arr ll
  call bpf_map_lookup_elem
  if r0 == 0 goto l1
  *(u64 *)(r10 - 16) = 0
  r1 = r10
  r1 += -16
  r2 = 8
  r3 = r0
  call bpf_strncmp
l1:
  r0 = 0
  exit`,
  },
  {
    name: 'ro_write',
    maps: M,
    asm: `
  r1 = val_ro ll
  *(u64 *)(r1 + 0) = 1
  r0 = 0
  exit`,
  },
  {
    name: 'smp',
    maps: M,
    asm: `
  call bpf_get_smp_processor_id
  exit`,
  },
  {
    name: 'cpuid_arr',
    maps: M,
    asm: `
  call bpf_get_smp_processor_id
  r0 <<= 3
  r1 = val_ro ll
  r1 += r0
  r0 = *(u64 *)(r1 + 0)
  exit`,
  },
  {
    name: 'loop_ok',
    maps: M,
    funcs: ['global', 'static'],
    asm: `
  r1 = 4
  r2 = fn_cb ll
  r3 = 0
  r4 = 0
  call bpf_loop
  r0 = 0
  exit
cb:
  r0 = 0
  exit`,
  },
  {
    name: 'loop_ret2',
    maps: M,
    funcs: ['global', 'static'],
    asm: `
  r1 = 4
  r2 = fn_cb ll
  r3 = 0
  r4 = 0
  call bpf_loop
  r0 = 0
  exit
cb:
  r0 = 2
  exit`,
  },
  {
    name: 'loop_nofuncinfo',
    maps: M,
    asm: `
  r1 = 4
  r2 = fn_cb ll
  r3 = 0
  r4 = 0
  call bpf_loop
  r0 = 0
  exit
cb:
  r0 = 0
  exit`,
  },
  {
    name: 'loop_ctx',
    maps: M,
    funcs: ['global', 'static'],
    asm: `
  *(u64 *)(r10 - 8) = 0
  r1 = 10
  r2 = fn_cb ll
  r3 = r10
  r3 += -8
  r4 = 0
  call bpf_loop
  r0 = *(u64 *)(r10 - 8)
  r0 = 0
  exit
cb:
  r3 = *(u64 *)(r2 + 0)
  r3 += 1
  *(u64 *)(r2 + 0) = r3
  r0 = 0
  exit`,
  },
  {
    name: 'loop_ctx_scalar',
    maps: M,
    funcs: ['global', 'static'],
    asm: `
  r1 = 10
  r2 = fn_cb ll
  r3 = 5
  r4 = 0
  call bpf_loop
  r0 = 0
  exit
cb:
  r0 = 0
  exit`,
  },
  {
    name: 'xdp_adjust_head_reload',
    maps: M,
    prog: 'xdp',
    asm: `
  r6 = r1
  r1 = r6
  r2 = 14
  call bpf_xdp_adjust_head
  r2 = *(u32 *)(r6 + 0)
  r3 = *(u32 *)(r6 + 4)
  r4 = r2
  r4 += 1
  if r4 > r3 goto +1
  r0 = *(u8 *)(r2 + 0)
  r0 = 2
  exit`,
  },
  {
    name: 'xdp_adjust_head_stale_pointer',
    maps: M,
    prog: 'xdp',
    asm: `
  r6 = r1
  r7 = *(u32 *)(r1 + 0)
  r8 = *(u32 *)(r1 + 4)
  r4 = r7
  r4 += 14
  if r4 > r8 goto +5
  r1 = r6
  r2 = 14
  call bpf_xdp_adjust_head
  r0 = *(u8 *)(r7 + 0)
  exit
  r0 = 2
  exit`,
  },
  {
    name: 'xdp_csum_diff_packet',
    maps: M,
    prog: 'xdp',
    asm: `
  r2 = *(u32 *)(r1 + 0)
  r3 = *(u32 *)(r1 + 4)
  r4 = r2
  r4 += 8
  if r4 > r3 goto +6
  r1 = r2
  r2 = 8
  r3 = 0
  r4 = 0
  r5 = 0
  call bpf_csum_diff
  r0 = 2
  exit`,
  },
  {
    name: 'socket_csum_diff_unavailable',
    maps: M,
    asm: `
  *(u64 *)(r10 - 8) = 0
  r1 = r10
  r1 += -8
  r2 = 8
  r3 = 0
  r4 = 0
  r5 = 0
  call bpf_csum_diff
  r0 = 0
  exit`,
  },
];
