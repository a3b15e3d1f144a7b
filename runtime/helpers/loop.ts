/**
 * bpf_loop(nr_loops, callback_fn, callback_ctx, flags) (181), as kernel/bpf/bpf_iter.c defines it: calls
 * `callback_fn(i, callback_ctx)` for i = 0.. until it returns non-zero, and returns the number of calls
 * made. The verifier proved the callback returns 0 or 1.
 */
import { BPF_MAX_LOOPS, E } from '../../bpf/abi/index.ts';
import type { HelperFn } from '../vm/index.ts';
import { argU32, ret } from './args.ts';

export const loopHelper: HelperFn = (env) => {
  const nr = argU32(env, 1);
  const fn = env.arg(2);
  const ctx = env.arg(3);
  if (env.arg(4) !== 0n) return ret(env, -E.EINVAL);
  if (nr > BPF_MAX_LOOPS) return ret(env, -E.E2BIG);
  for (let i = 0; i < nr; i++) {
    if (env.callFunction(fn, [BigInt(i), ctx]) !== 0n) return ret(env, i + 1);
  }
  return ret(env, nr);
};
