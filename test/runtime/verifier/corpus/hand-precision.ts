/**
 * Hand-written programs for precision tracking and stack-slot liveness: two paths join with different
 * values in a scalar or a stack slot, and whether the second path is pruned depends on whether anything
 * after the join relies on the exact value (pointer arithmetic, a decided branch, a size argument),
 * directly or through a spill, a linked copy, a subprogram argument or its return value — or, for a
 * slot, whether anything reads it again (directly, through a helper, or from a subprogram by pointer).
 * The processed counts, recorded from the kernel, tell which it was.
 */
import { type HandCase, MAPS } from './hand-types.ts';

const c = (name: string, asm: string, extra: Partial<HandCase> = {}): HandCase => ({ name, asm, maps: MAPS, ...extra });

/** Two undecidable branches give r6 one of 0, 8 and r7 one of 0, 1, then `tail` runs on each combination. */
const join = (tail: string): string => `
  r2 = *(u32 *)(r1 + 0)
  r3 = *(u32 *)(r1 + 4)
  r4 = *(u32 *)(r1 + 8)
  r6 = 0
  r7 = 0
  if r2 > 10 goto +1
  r6 = 8
  if r3 > 10 goto +1
  r7 = 1
  if r4 > 10 goto +1
  r4 = 3
  r5 = 0
  r5 += 1
  r5 += 1
  r5 += 1
${tail}
  r0 = 0
  exit`;

/** Straight-line work after the join, so that pruning saves something measurable. */
const WORK = Array.from({ length: 12 }, (_, i) => `  r8 = ${i}\n  r8 += r5`).join('\n');

export const PRECISION_CASES: readonly HandCase[] = [
  c('prec_join_imprecise', join(`  r0 = r6\n  r0 += r7\n${WORK}`)),
  c('prec_join_ptr_arith', join(`${WORK}\n  r1 = r10\n  r1 += -16\n  r1 += r6\n  *(u64 *)(r1 + 0) = 0`)),
  c('prec_join_decided_branch', join(`${WORK}\n  if r7 == 1 goto +1\n  r8 = 1`)),
  c(
    'prec_join_spill_fill',
    join(
      `  *(u64 *)(r10 - 24) = r6\n${WORK}\n  r9 = *(u64 *)(r10 - 24)\n  r1 = r10\n  r1 += -16\n  r1 += r9\n  *(u64 *)(r1 + 0) = 0`,
    ),
  ),
  c('prec_join_spill_unused', join(`  *(u64 *)(r10 - 24) = r6\n${WORK}\n  r9 = *(u64 *)(r10 - 24)\n  r9 += 1`)),
  c(
    'prec_join_linked',
    join(
      `  r9 = r6\n  if r9 > 4 goto +1\n  r9 = 0\n${WORK}\n  r1 = r10\n  r1 += -16\n  r1 += r6\n  *(u64 *)(r1 + 0) = 0`,
    ),
  ),
  c(
    'prec_join_size_arg',
    join(`${WORK}\n  r6 += 1\n  r1 = r10\n  r1 += -16\n  r2 = r6\n  r3 = 0\n  call bpf_probe_read_kernel`),
    { prog: 'syscall' },
  ),
  c(
    'prec_subprog_arg',
    `${join(`${WORK}\n  r1 = r6\n  call sub`)}
sub:
  r2 = r10
  r2 += -16
  r2 += r1
  *(u64 *)(r2 + 0) = 0
  r0 = 0
  exit`,
  ),
  c(
    'prec_subprog_ret',
    `${join(`${WORK}\n  r1 = r6\n  call sub\n  r1 = r10\n  r1 += -16\n  r1 += r0\n  *(u64 *)(r1 + 0) = 0`)}
sub:
  r0 = r1
  exit`,
  ),
  c(
    'prec_subprog_ret_unused',
    `${join(`${WORK}\n  r1 = r6\n  call sub\n  r9 = r0`)}
sub:
  r0 = r1
  exit`,
  ),
  c(
    'prec_bounded_loop_index',
    `
  r6 = 0
l:
  r1 = r10
  r1 += -64
  r1 += r6
  *(u8 *)(r1 + 0) = 0
  r6 += 1
  if r6 < 32 goto l
  r0 = 0
  exit`,
  ),
  c(
    'prec_bounded_loop_counter_only',
    `
  r6 = 0
  r7 = 0
l:
  r7 += 3
  r6 += 1
  if r6 < 32 goto l
  r0 = r7
  exit`,
  ),
  c(
    'live_dead_slot_join',
    join(`  if r6 == 0 goto +2\n  *(u64 *)(r10 - 16) = r1\n  goto +1\n  *(u64 *)(r10 - 16) = r7\n${WORK}`),
  ),
  c(
    'live_read_slot_join',
    join(
      `  if r6 == 0 goto +2\n  *(u64 *)(r10 - 16) = r1\n  goto +1\n  *(u64 *)(r10 - 16) = r7\n${WORK}\n  r9 = *(u64 *)(r10 - 16)`,
    ),
  ),
  c(
    'live_overwritten_slot_join',
    join(
      `  if r6 == 0 goto +2\n  *(u64 *)(r10 - 16) = r1\n  goto +1\n  *(u64 *)(r10 - 16) = r7\n${WORK}\n  *(u64 *)(r10 - 16) = 0\n  r9 = *(u64 *)(r10 - 16)`,
    ),
  ),
  c(
    'live_slot_read_by_helper',
    join(
      `  *(u64 *)(r10 - 8) = 0\n  if r6 == 0 goto +2\n  *(u64 *)(r10 - 8) = r1\n  goto +1\n  *(u64 *)(r10 - 8) = r7\n${WORK}\n  r1 = hash ll\n  r2 = r10\n  r2 += -8\n  call bpf_map_lookup_elem`,
    ),
  ),
  c(
    'live_slot_read_by_subprog',
    `${join(`  if r6 == 0 goto +2\n  *(u64 *)(r10 - 16) = r1\n  goto +1\n  *(u64 *)(r10 - 16) = r7\n${WORK}\n  r1 = r10\n  r1 += -16\n  call sub`)}
sub:
  r2 = *(u64 *)(r1 + 0)
  r0 = 0
  exit`,
  ),
];
