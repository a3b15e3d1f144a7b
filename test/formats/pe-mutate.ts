/** Mutation helpers shared by the PE and Authenticode fuzz tests. */
import fc from 'fast-check';

/** Byte edits biased towards the headers, 32-bit fields set to boundary values, and truncation. */
export const mutated = (bases: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> =>
  fc
    .record({
      base: fc.constantFrom(...bases),
      edits: fc.array(
        fc.oneof(
          fc.record({ at: fc.nat(0x3ff), value: fc.integer({ min: 0, max: 255 }), wide: fc.constant(false) }),
          fc.record({ at: fc.nat(0xffffff), value: fc.integer({ min: 0, max: 255 }), wide: fc.constant(false) }),
          fc.record({
            at: fc.nat(0xff).map((n) => n * 4),
            value: fc.constantFrom(0, 1, 0x200, 0x1000, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff),
            wide: fc.constant(true),
          }),
        ),
        { maxLength: 6 },
      ),
      truncate: fc.option(fc.nat(), { nil: undefined, freq: 8 }),
    })
    .map(({ base, edits, truncate }) => {
      const out = base.slice(0, truncate === undefined ? base.length : truncate % (base.length + 1));
      const dv = new DataView(out.buffer);
      for (const e of edits) {
        const at = e.at % Math.max(1, out.length);
        if (e.wide && at + 4 <= out.length) dv.setUint32(at, e.value >>> 0, true);
        else if (at < out.length) out[at] = e.value & 0xff;
      }
      return out;
    });

/** Runs `f`, letting only the named error classes escape. */
export const onlyTyped = (f: () => void, ...allowed: (new (...a: never[]) => Error)[]): void => {
  try {
    f();
  } catch (e) {
    if (!allowed.some((cls) => e instanceof cls)) throw e;
  }
};
