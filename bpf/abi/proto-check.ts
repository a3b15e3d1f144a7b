/**
 * The kernel's sanity check of a helper prototype (verifier.c `check_func_proto()`), run on every
 * helper call before the arguments are looked at. A prototype failing it is a kernel bug, reported as
 * `kernel subsystem misconfigured func <name>#<id>`. Each problem here names the rule it breaks.
 */
import { isMemSizeArg, resolveArg } from './arg-types.ts';
import type { HelperProto } from './helper-proto.ts';

export const MAX_HELPER_ARGS = 5;

export const misconfiguredMessage = (p: Pick<HelperProto, 'name' | 'id'>): string =>
  `kernel subsystem misconfigured func ${p.name}#${p.id}`;

export const funcProtoProblems = (p: HelperProto): string[] => {
  const problems: string[] = [];
  if (p.args.length > MAX_HELPER_ARGS) problems.push(`more than ${MAX_HELPER_ARGS} arguments`);
  const resolved = p.args.map(resolveArg);

  // check_raw_mode_ok: at most one uninitialised-memory argument
  const raw = resolved.filter((r) => r.base === 'ARG_PTR_TO_MEM' && r.flags.has('MEM_UNINIT')).length;
  if (raw > 1) problems.push('raw mode: more than one MEM_UNINIT memory argument');

  // check_arg_pair_ok: a size argument directly follows each non-fixed memory argument, and only one
  const first = p.args[0];
  if (first !== undefined && isMemSizeArg(first)) problems.push('arg pair: arg1 is a size with no memory before it');
  resolved.forEach((r, i) => {
    const next = p.args[i + 1];
    const nextIsSize = next !== undefined && isMemSizeArg(next);
    if (r.base !== 'ARG_PTR_TO_MEM') {
      if (nextIsSize) problems.push(`arg pair: arg${i + 2} is a size but arg${i + 1} is not memory`);
      return;
    }
    const fixed = r.flags.has('MEM_FIXED_SIZE');
    // no arg_size is modelled, so a fixed-size memory argument cannot be well formed here
    if (fixed) problems.push(`arg pair: arg${i + 1} is fixed-size memory, which needs an arg_size`);
    else if (!nextIsSize) problems.push(`arg pair: arg${i + 1} is memory without a size argument after it`);
  });

  // check_mem_arg_rw_flag_ok: memory arguments say whether the helper reads or writes them
  resolved.forEach((r, i) => {
    if (r.base === 'ARG_PTR_TO_MEM' && !r.flags.has('MEM_WRITE') && !r.flags.has('MEM_RDONLY')) {
      problems.push(`rw flag: arg${i + 1} memory has neither MEM_WRITE nor MEM_RDONLY`);
    }
  });

  // check_btf_id_ok: BTF-typed arguments need an arg_btf_id, which this table does not model
  resolved.forEach((r, i) => {
    if (r.base === 'ARG_PTR_TO_BTF_ID' || r.base === 'ARG_PTR_TO_SPIN_LOCK') {
      problems.push(`btf id: arg${i + 1} (${r.base}) needs an arg_btf_id`);
    }
  });
  return problems;
};
