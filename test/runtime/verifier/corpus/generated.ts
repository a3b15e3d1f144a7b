/**
 * Random verifier programs (fast-check, fixed seed): straight-line code with forward branches only
 * (no loops, so nothing sent to the kernel can hit the bug of reference/ebpf.md §8; the soundness
 * property, which stays in this process, adds bounded loops), biased toward
 * context and stack accesses, branches on bounds, map-value and packet accesses behind checks, and
 * helper calls. Registers r7-r9 start as context-derived scalars; r6 keeps the context.
 */
import fc from 'fast-check';
import type { HandCase, ProgKind } from './hand-types.ts';

const REG = fc.constantFrom('r7', 'r8', 'r9', 'r7', 'r8', 'r9', 'r0');
const SCALAR_REG = fc.constantFrom('r7', 'r8', 'r9');
const SIZE = fc.constantFrom('u8', 'u16', 'u32', 'u64');
const BYTES: Record<string, number> = { u8: 1, u16: 2, u32: 4, u64: 8 };
const COND = fc.constantFrom('>', '>=', '<', '<=', '==', '!=', 's>', 's<', '&');

/** Text of one snippet: `label(k)` names the start of the k-th snippet after it, `here` its own start. */
type Snippet = (label: (k: number) => string, here: string) => string;
/** `+ 4` / `- 4` for an address offset. */
const at = (off: number): string => (off < 0 ? `- ${-off}` : `+ ${off}`);

/**
 * A bounded loop on r9 (1..12 iterations) whose body accumulates into r7/r8, branches on them, and
 * writes the stack or reads a map value at an offset derived from the counter.
 */
const loopSnippet: fc.Arbitrary<Snippet> = fc
  .tuple(
    fc.integer({ min: 1, max: 12 }),
    fc.constantFrom('+=', '^=', '*=', '|='),
    fc.constantFrom('none', 'branch', 'stack', 'map'),
    fc.integer({ min: 0, max: 15 }),
    fc.boolean(),
  )
  .map(
    ([n, op, body, mask, wide]): Snippet =>
      (_label, here) => {
        const lines = ['  r9 = 0', `${here}_b:`, `  r7 ${op} r9`];
        if (body === 'branch') lines.push(`  if r7 > ${n * 3} goto ${here}_c`, '  r8 += 1', `${here}_c:`);
        if (body === 'stack')
          lines.push(
            '  r2 = r10',
            '  r2 += -64',
            '  r3 = r9',
            `  r3 &= ${mask & 7}`,
            '  r3 <<= 3',
            '  r2 += r3',
            '  *(u64 *)(r2 + 0) = r7',
          );
        if (body === 'map')
          lines.push(
            '  r1 = val_big ll',
            '  r3 = r9',
            `  r3 &= ${mask * 4 + 3}`,
            '  r1 += r3',
            `  r8 = *(u${wide ? 32 : 8} *)(r1 + 0)`,
          );
        lines.push(wide ? '  w9 += 1' : '  r9 += 1', `  if r9 < ${n} goto ${here}_b`);
        return lines.join('\n');
      },
  );

const snippet = (prog: ProgKind, loops: boolean): fc.Arbitrary<Snippet> =>
  fc.oneof(
    { weight: loops ? 3 : 0, arbitrary: loopSnippet },
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          SCALAR_REG,
          fc.constantFrom('+=', '-=', '&=', '|=', '^=', '<<=', '>>=', '*=', 's>>='),
          fc.integer({ min: -8, max: 70 }),
        )
        .map(
          ([r, op, v]) =>
            () =>
              `  ${r} ${op} ${v}`,
        ),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(SCALAR_REG, fc.constantFrom('+=', '-=', '&=', '|=', '^=', '='), SCALAR_REG).map(
        ([d, op, s]) =>
          () =>
            `  ${d} ${op} ${s}`,
      ),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(SCALAR_REG, fc.constantFrom('+=', '&=', '>>=', '='), SCALAR_REG).map(
        ([d, op, s]) =>
          () =>
            `  w${d.slice(1)} ${op} w${s.slice(1)}`,
      ),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(SCALAR_REG, fc.integer({ min: 0, max: 24 }), fc.constantFrom('u8', 'u16', 'u32')).map(
        ([r, f, sz]) =>
          () =>
            prog === 'xdp'
              ? `  ${r} = *(u32 *)(r6 + ${(f % 6) * 4})`
              : `  ${r} = *(${sz} *)(r6 + ${f * (prog === 'syscall' ? 2 : 4)})`,
      ),
    },
    {
      weight: 3,
      arbitrary: fc.tuple(fc.integer({ min: 1, max: 9 }), SIZE, REG).map(
        ([k, sz, r]) =>
          () =>
            `  *(${sz} *)(r10 - ${k * 8}) = ${r}`,
      ),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.integer({ min: 1, max: 20 }), SIZE, fc.integer({ min: -4, max: 300 })).map(
        ([k, sz, v]) =>
          () =>
            `  *(${sz} *)(r10 - ${k * (BYTES[sz] ?? 8)}) = ${v}`,
      ),
    },
    {
      weight: 3,
      arbitrary: fc.tuple(SCALAR_REG, fc.integer({ min: 1, max: 20 }), SIZE, fc.integer({ min: 0, max: 9 })).map(
        ([r, k, sz, odd]) =>
          () =>
            `  ${r} = *(${sz} *)(r10 - ${odd === 0 ? k : k * (BYTES[sz] ?? 8)})`,
      ),
    },
    {
      weight: 4,
      arbitrary: fc.tuple(REG, COND, fc.integer({ min: -2, max: 300 }), fc.integer({ min: 1, max: 3 })).map(
        ([r, c, v, k]): Snippet =>
          (label) =>
            `  if ${r} ${c} ${v} goto ${label(k)}`,
      ),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(SCALAR_REG, COND, SCALAR_REG, fc.integer({ min: 1, max: 3 })).map(
        ([a, c, b, k]): Snippet =>
          (label) =>
            `  if ${a} ${c} ${b} goto ${label(k)}`,
      ),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          fc.constantFrom('arr', 'hash', 'big'),
          fc.integer({ min: 0, max: 5 }),
          SCALAR_REG,
          fc.integer({ min: 0, max: 70 }),
          fc.constantFrom('check', 'mask', 'none', 'nonull'),
          SIZE,
          fc.integer({ min: -8, max: 64 }),
        )
        .map(
          ([m, key, r, bound, how, sz, off]): Snippet =>
            (label) => {
              const lines = [
                `  *(u32 *)(r10 - 4) = ${key}`,
                '  r2 = r10',
                '  r2 += -4',
                `  r1 = ${m} ll`,
                '  call bpf_map_lookup_elem',
              ];
              if (how !== 'nonull') lines.push(`  if r0 == 0 goto ${label(1)}`);
              if (how === 'check') lines.push(`  if ${r} > ${bound} goto ${label(1)}`, `  r0 += ${r}`);
              if (how === 'mask') lines.push(`  ${r} &= ${bound}`, `  r0 += ${r}`);
              lines.push(`  ${r} = *(${sz} *)(r0 ${at(off)})`);
              return lines.join('\n');
            },
        ),
    },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom('bpf_ktime_get_ns', 'bpf_get_prandom_u32', 'bpf_get_smp_processor_id')
        .map((h) => () => `  call ${h}\n  r7 = r0`),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.integer({ min: 0, max: 24 }), fc.integer({ min: -4, max: 24 }), fc.boolean()).map(
        ([size, off, submit]): Snippet =>
          (label) =>
            [
              '  r1 = rb ll',
              `  r2 = ${size}`,
              '  r3 = 0',
              '  call bpf_ringbuf_reserve',
              `  if r0 == 0 goto ${label(1)}`,
              `  *(u32 *)(r0 ${at(off)}) = 1`,
              '  r1 = r0',
              '  r2 = 0',
              submit ? '  call bpf_ringbuf_submit' : '  call bpf_ringbuf_discard',
            ].join('\n'),
      ),
    },
    {
      weight: prog === 'xdp' ? 4 : 0,
      arbitrary: fc
        .tuple(
          fc.integer({ min: 1, max: 40 }),
          fc.integer({ min: 0, max: 44 }),
          fc.constantFrom('u8', 'u16', 'u32'),
          SCALAR_REG,
        )
        .map(
          ([n, pos, sz, r]): Snippet =>
            (label) =>
              [
                '  r2 = *(u32 *)(r6 + 0)',
                '  r3 = *(u32 *)(r6 + 4)',
                '  r4 = r2',
                `  r4 += ${n}`,
                `  if r4 > r3 goto ${label(1)}`,
                `  ${r} = *(${sz} *)(r2 + ${pos})`,
              ].join('\n'),
        ),
    },
  );

/**
 * One random program of kind `prog`, as assembly text. `loops` adds bounded loops: for our verifier
 * only (soundness), never for the kernel (reference/ebpf.md §8).
 */
export const programArb = (prog: ProgKind, loops = false): fc.Arbitrary<string> =>
  fc.array(snippet(prog, loops), { minLength: 2, maxLength: 14 }).map((parts) => {
    const head =
      prog === 'xdp'
        ? ['  r6 = r1', '  r7 = *(u32 *)(r6 + 12)', '  r8 = *(u32 *)(r6 + 16)', '  r9 = 0']
        : ['  r6 = r1', `  r7 = *(u32 *)(r6 + 0)`, `  r8 = *(u32 *)(r6 + 4)`, '  r9 = 0'];
    const body = parts.map((p, i) => `L${i}:\n${p((k) => `L${Math.min(i + k, parts.length)}`, `L${i}`)}`);
    return [...head, ...body, `L${parts.length}:`, '  r0 = 0', '  exit'].join('\n');
  });

/** `count` programs per program kind, deterministic for a seed. */
export const generatedCases = (count: number, seed = 4): HandCase[] =>
  (['socket', 'xdp', 'syscall'] as const).flatMap((prog, k) =>
    fc
      .sample(programArb(prog), { numRuns: count, seed: seed + k })
      .map((asm, i) => ({ name: `gen_${prog}_${i}`, asm, prog })),
  );
