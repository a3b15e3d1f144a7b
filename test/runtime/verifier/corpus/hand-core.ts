/**
 * Hand-written programs for the core rules: CFG checks, registers and ALU, pointer arithmetic,
 * stack, context, packets (XDP), branches and bounded loops. Each rule has an accepted and a
 * rejected variant where both exist.
 */
import { type HandCase, MAPS } from './hand-types.ts';

const c = (name: string, asm: string, extra: Partial<HandCase> = {}): HandCase => ({ name, asm, maps: MAPS, ...extra });
const xdpPkt = (body: string): string => `
  r2 = *(u32 *)(r1 + 0)
  r3 = *(u32 *)(r1 + 4)
${body}
  r0 = 2
  exit`;

export const CORE_CASES: readonly HandCase[] = [
  c('cfg_jump_out_of_range', 'goto +5\n r0 = 0\n exit'),
  c('cfg_jump_in_range', 'goto +0\n r0 = 0\n exit'),
  c('cfg_last_not_exit', 'r0 = 0'),
  c('cfg_unreachable', 'r0 = 0\n exit\n exit'),
  c('cfg_bounded_loop', 'r0 = 0\nl:\n r0 += 1\n if r0 < 10 goto l\n exit'),
  c('cfg_infinite_loop', 'r0 = 0\nl:\n if r0 == 0 goto l\n exit'),
  c('reg_uninit_src', 'r0 = r2\n exit'),
  c('reg_init_src', 'r0 = r1\n r0 = 0\n exit'),
  c('reg_r0_exit_uninit', 'exit'),
  c('reg_fp_readonly', 'r10 = 1\n exit'),
  c('alu_div_zero_imm', 'r0 = 0\n r0 /= 0\n exit'),
  c('alu_div_imm', 'r0 = 0\n r0 /= 3\n exit'),
  c('alu_div_reg_zero_ok', 'r0 = 7\n r1 = 0\n r0 /= r1\n exit'),
  c('alu_shift_64', 'r0 = 0\n r0 <<= 64\n exit'),
  c('alu_shift_63', 'r0 = 0\n r0 <<= 63\n exit'),
  c('alu_shift32_32', 'w0 = 0\n w0 <<= 32\n exit'),
  c('alu_ptr32', 'r1 = r10\n w1 += 4\n r0 = 0\n exit'),
  c('alu_ptr_add_imm', 'r1 = r10\n r1 += -4\n r0 = 0\n exit'),
  c('alu_ptr_and', 'r1 = r10\n r1 &= 4\n r0 = 0\n exit'),
  c('alu_ptr_sub_ptr', 'r1 = r10\n r2 = r10\n r1 -= r2\n r0 = r1\n exit'),
  c('alu_scalar_minus_ptr', 'r1 = 0\n r1 -= r10\n r0 = 0\n exit'),
  c('alu_ptr_mul', 'r1 = r10\n r1 *= 2\n r0 = 0\n exit'),
  c('alu_ctx_var_add', 'r2 = *(u32 *)(r1 + 0)\n r1 += r2\n r0 = 0\n exit'),
  c('alu_map_ptr_arith', 'r1 = hash ll\n r1 += 8\n r0 = 0\n exit'),
  c('alu_neg_bounds', 'r0 = *(u8 *)(r1 + 0)\n r0 = -r0\n r0 = 0\n exit'),
  c('alu_bswap', 'r0 = *(u8 *)(r1 + 0)\n r0 = bswap16 r0\n exit'),
  c('alu_movsx', 'r0 = *(u8 *)(r1 + 0)\n r2 = (s8)r0\n w3 = (s8)w0\n r0 = 0\n exit'),
  c('alu_ldsx_stack', '*(u64 *)(r10 - 8) = -3\n r0 = *(s8 *)(r10 - 8)\n exit'),
  c('lddw_constant', 'r0 = 0x123456789 ll\n exit'),
  c('stack_oob_write', '*(u64 *)(r10 + 8) = 5\n r0 = 0\n exit'),
  c('stack_write_ok', '*(u64 *)(r10 - 8) = 5\n r0 = 0\n exit'),
  c('stack_below_512', '*(u64 *)(r10 - 520) = 5\n r0 = 0\n exit'),
  c('stack_at_512', '*(u64 *)(r10 - 512) = 5\n r0 = 0\n exit'),
  c('stack_misaligned', '*(u64 *)(r10 - 12) = r1\n r0 = 0\n exit'),
  c('stack_aligned_spill', '*(u64 *)(r10 - 16) = r1\n r0 = 0\n exit'),
  c('stack_spill_fill_ctx', '*(u64 *)(r10 - 8) = r1\n r2 = *(u64 *)(r10 - 8)\n r0 = *(u32 *)(r2 + 0)\n exit'),
  c('stack_partial_fill_ptr', '*(u64 *)(r10 - 8) = r1\n r2 = *(u32 *)(r10 - 8)\n r0 = 0\n exit'),
  c('stack_fill_const', '*(u64 *)(r10 - 8) = 5\n r0 = *(u64 *)(r10 - 8)\n r0 += 1\n exit'),
  c('stack_uninit_read', 'r0 = *(u64 *)(r10 - 8)\n exit'),
  c(
    'stack_var_off_read',
    'r2 = *(u8 *)(r1 + 0)\n r2 &= 7\n *(u64 *)(r10 - 16) = 0\n *(u64 *)(r10 - 8) = 0\n r3 = r10\n r3 += -16\n r3 += r2\n r0 = *(u8 *)(r3 + 0)\n exit',
  ),
  c('stack_var_off_unbounded', 'r2 = *(u32 *)(r1 + 0)\n r3 = r10\n r3 += r2\n r0 = *(u8 *)(r3 + 0)\n exit'),
  c('stack_var_off_oob', 'r2 = *(u8 *)(r1 + 0)\n r3 = r10\n r3 += -8\n r3 += r2\n r0 = *(u8 *)(r3 + 0)\n exit'),
  c('ctx_bad_off', 'r0 = *(u32 *)(r1 + 200)\n exit'),
  c('ctx_ok', 'r0 = *(u32 *)(r1 + 0)\n exit'),
  c('ctx_narrow_ok', 'r0 = *(u8 *)(r1 + 1)\n exit'),
  c('ctx_cb_write', '*(u32 *)(r1 + 48) = r1\n r0 = 0\n exit'),
  c('ctx_cb_write_scalar', 'r2 = 1\n *(u32 *)(r1 + 48) = r2\n r0 = 0\n exit'),
  c('ctx_len_write', 'r2 = 1\n *(u32 *)(r1 + 0) = r2\n r0 = 0\n exit'),
  c('ctx_modified', 'r1 += 4\n r0 = *(u32 *)(r1 + 0)\n exit'),
  c('ctx_st_imm', '*(u32 *)(r1 + 48) = 1\n r0 = 0\n exit'),
  c('scalar_deref', 'r1 = 0\n r0 = *(u32 *)(r1 + 0)\n exit'),
  c('atomic_stack_ok', '*(u64 *)(r10 - 8) = 0\n r1 = 1\n lock *(u64 *)(r10 - 8) += r1\n r0 = 0\n exit'),
  c('atomic_ctx', 'r2 = 1\n lock *(u32 *)(r1 + 0) += r2\n r0 = 0\n exit'),
  c('atomic_fetch', '*(u64 *)(r10 - 8) = 0\n r1 = 1\n r1 = atomic_fetch_add((u64 *)(r10 - 8), r1)\n r0 = r1\n exit'),
  c('branch_refine', 'r0 = *(u8 *)(r1 + 0)\n if r0 > 8 goto +1\n r0 = 1\n exit'),
  c('branch_jset', 'r0 = *(u8 *)(r1 + 0)\n if r0 & 4 goto +1\n r0 = 1\n exit'),
  c('branch_jmp32', 'r0 = *(u32 *)(r1 + 0)\n if w0 < 16 goto +1\n r0 = 1\n exit'),
  c('branch_dead_uninit', 'r0 = 0\n if r0 == 0 goto +1\n r0 = r5\n exit'),
  c('branch_live_uninit', 'r0 = *(u8 *)(r1 + 0)\n if r0 == 0 goto +1\n r0 = r5\n exit'),
  c('branch_ptr_cmp', 'r0 = 0\n if r1 > r10 goto +1\n r0 = 1\n exit'),
  c('ldabs_ok', 'r6 = r1\n r0 = *(u8 *)skb[12]\n exit'),
  c('ldabs_no_r6', 'r0 = *(u8 *)skb[12]\n exit'),
  c('ldabs_xdp', 'r6 = r1\n r0 = *(u8 *)skb[12]\n exit', { prog: 'xdp' }),
  c(
    'map_value_var_bounded',
    `
  *(u32 *)(r10 - 4) = 0
  r2 = r10
  r2 += -4
  r1 = big ll
  call bpf_map_lookup_elem
  if r0 == 0 goto out
  r1 = *(u8 *)(r0 + 0)
  if r1 > 56 goto out
  r0 += r1
  r0 = *(u64 *)(r0 + 0)
out:
  r0 = 0
  exit`,
  ),
  c(
    'map_value_var_unbounded',
    `
  *(u32 *)(r10 - 4) = 0
  r2 = r10
  r2 += -4
  r1 = big ll
  call bpf_map_lookup_elem
  if r0 == 0 goto out
  r1 = *(u8 *)(r0 + 0)
  r0 += r1
  r0 = *(u64 *)(r0 + 0)
out:
  r0 = 0
  exit`,
  ),
  c(
    'map_value_var_negative',
    `
  *(u32 *)(r10 - 4) = 0
  r2 = r10
  r2 += -4
  r1 = big ll
  call bpf_map_lookup_elem
  if r0 == 0 goto out
  r1 = *(u64 *)(r0 + 0)
  if r1 s> 8 goto out
  r0 += r1
  r0 = *(u8 *)(r0 + 0)
out:
  r0 = 0
  exit`,
  ),
  c(
    'map_value_ptr_unbounded_min',
    `
  *(u32 *)(r10 - 4) = 0
  r2 = r10
  r2 += -4
  r1 = big ll
  call bpf_map_lookup_elem
  if r0 == 0 goto out
  r1 = *(u64 *)(r0 + 0)
  r0 += r1
  r0 = 0
out:
  r0 = 0
  exit`,
  ),
  c(
    'map_value_spill_ptr',
    `
  *(u32 *)(r10 - 4) = 0
  r2 = r10
  r2 += -4
  r1 = arr ll
  call bpf_map_lookup_elem
  if r0 == 0 goto out
  *(u64 *)(r10 - 16) = r0
  r1 = *(u64 *)(r10 - 16)
  r0 = *(u64 *)(r1 + 0)
out:
  r0 = 0
  exit`,
  ),
  c(
    'map_null_copy_propagation',
    `
  *(u32 *)(r10 - 4) = 5
  r2 = r10
  r2 += -4
  r1 = hash ll
  call bpf_map_lookup_elem
  r6 = r0
  if r0 == 0 goto out
  r0 = *(u64 *)(r6 + 0)
out:
  r0 = 0
  exit`,
  ),
  c(
    'map_null_check_other_copy',
    `
  *(u32 *)(r10 - 4) = 5
  r2 = r10
  r2 += -4
  r1 = hash ll
  call bpf_map_lookup_elem
  r6 = r0
  if r6 != 0 goto use
  r0 = 0
  exit
use:
  r0 = *(u64 *)(r0 + 0)
  r0 = 0
  exit`,
  ),
  c(
    'map_or_null_arith',
    `
  *(u32 *)(r10 - 4) = 5
  r2 = r10
  r2 += -4
  r1 = hash ll
  call bpf_map_lookup_elem
  r0 += 8
  r0 = 0
  exit`,
  ),
  c(
    'xdp_pkt_ok',
    xdpPkt(`  r4 = r2
  r4 += 14
  if r4 > r3 goto +1
  r0 = *(u8 *)(r2 + 13)`),
    { prog: 'xdp' },
  ),
  c(
    'xdp_pkt_one_past',
    xdpPkt(`  r4 = r2
  r4 += 14
  if r4 > r3 goto +1
  r0 = *(u8 *)(r2 + 14)`),
    { prog: 'xdp' },
  ),
  c('xdp_pkt_unchecked', xdpPkt('  r0 = *(u8 *)(r2 + 0)'), { prog: 'xdp' }),
  c(
    'xdp_pkt_reversed_cmp',
    xdpPkt(`  r4 = r2
  r4 += 8
  if r3 < r4 goto +1
  r0 = *(u64 *)(r2 + 0)`),
    { prog: 'xdp' },
  ),
  c(
    'xdp_pkt_jge',
    xdpPkt(`  r4 = r2
  r4 += 8
  if r4 >= r3 goto +1
  r0 = *(u64 *)(r2 + 0)`),
    { prog: 'xdp' },
  ),
  c(
    'xdp_pkt_wrong_branch',
    xdpPkt(`  r4 = r2
  r4 += 8
  if r4 <= r3 goto +1
  r0 = *(u64 *)(r2 + 0)`),
    { prog: 'xdp' },
  ),
  c(
    'xdp_pkt_var_off',
    xdpPkt(`  r5 = *(u32 *)(r1 + 12)
  r4 = r2
  r4 += 20
  if r4 > r3 goto +3
  r5 &= 7
  r2 += r5
  r0 = *(u8 *)(r2 + 0)`),
    { prog: 'xdp' },
  ),
  c(
    'xdp_pkt_var_checked',
    xdpPkt(`  r5 = *(u32 *)(r1 + 12)
  r5 &= 7
  r2 += r5
  r4 = r2
  r4 += 4
  if r4 > r3 goto +1
  r0 = *(u32 *)(r2 + 0)`),
    { prog: 'xdp' },
  ),
  c(
    'xdp_pkt_write',
    xdpPkt(`  r4 = r2
  r4 += 2
  if r4 > r3 goto +1
  *(u16 *)(r2 + 0) = 0`),
    { prog: 'xdp' },
  ),
  c('xdp_pkt_end_deref', xdpPkt('  r0 = *(u8 *)(r3 + 0)'), { prog: 'xdp' }),
  c('xdp_pkt_end_arith', xdpPkt('  r3 += 1'), { prog: 'xdp' }),
  c('xdp_ctx_write', 'r2 = 0\n *(u32 *)(r1 + 0) = r2\n r0 = 2\n exit', { prog: 'xdp' }),
  c('xdp_ctx_ingress', 'r0 = *(u32 *)(r1 + 12)\n exit', { prog: 'xdp' }),
  c('xdp_ctx_data_narrow', 'r0 = *(u16 *)(r1 + 0)\n exit', { prog: 'xdp' }),
  c('syscall_ctx_read', 'r0 = *(u64 *)(r1 + 8)\n r0 = 0\n exit', { prog: 'syscall' }),
  c(
    'syscall_copy_from_user',
    `
  r3 = *(u64 *)(r1 + 0)
  r1 = r10
  r1 += -16
  r2 = 16
  call bpf_copy_from_user
  r0 = *(u64 *)(r10 - 16)
  r0 = 0
  exit`,
    { prog: 'syscall' },
  ),
  c('subprog_call', 'r1 = 1\n call fn\n exit\nfn:\n r0 = r1\n exit'),
  c('subprog_uninit_arg', 'call fn\n exit\nfn:\n r0 = r1\n exit'),
  c('subprog_return_stack', 'call fn\n r0 = 0\n exit\nfn:\n r0 = r10\n exit'),
  c(
    'subprog_caller_stack',
    '*(u64 *)(r10 - 8) = 3\n r1 = r10\n r1 += -8\n call fn\n exit\nfn:\n r0 = *(u64 *)(r1 + 0)\n exit',
  ),
  c('subprog_r6_preserved', 'r6 = 3\n call fn\n r0 = r6\n exit\nfn:\n r0 = 0\n exit'),
  c('subprog_r2_clobbered', 'r2 = 3\n call fn\n r0 = r2\n exit\nfn:\n r0 = 0\n exit'),
  // check_max_stack_depth: 256 + 256 fits; 264 (272 rounded to 16) + 256 does not.
  c(
    'stack_combined_fits',
    '*(u8 *)(r10 - 256) = 0\n call fn\n r0 = 0\n exit\nfn:\n *(u8 *)(r10 - 256) = 0\n r0 = 0\n exit',
  ),
  c(
    'stack_combined_too_large',
    '*(u8 *)(r10 - 264) = 0\n call fn\n r0 = 0\n exit\nfn:\n *(u8 *)(r10 - 256) = 0\n r0 = 0\n exit',
  ),
  c(
    'stack_combined_three_frames',
    '*(u8 *)(r10 - 200) = 0\n call f1\n r0 = 0\n exit\nf1:\n *(u8 *)(r10 - 200) = 0\n call f2\n exit\nf2:\n *(u8 *)(r10 - 120) = 0\n r0 = 0\n exit',
  ),
];
