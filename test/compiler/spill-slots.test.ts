/**
 * Stack-slot interference at the level of a DSL program: more values than registers live across
 * helper calls, a view among them, and values that die while others are spilled. A spilled victim
 * once took the slot of a value still live at the victim's start (the slot was free only from that
 * value's end), so a scalar and a view pointer shared a slot in parsers/uki.ts and the verifier
 * refused the program (or a scalar was overwritten). Each case passes our verifier and agrees
 * natively and compiled on every value of the input byte it depends on.
 */
import { describe, it } from 'vitest';
import { expectSameOnByteSweep, programText } from './support/byte-sweep.ts';

const FILE = new URL('./programs/spill-slots.ts', import.meta.url).pathname;
const HEAD = `import { arrayMap, type Bytes, program, u32 } from '../../../compiler/dsl/index.ts';
export const input = arrayMap({ valueSize: 64, maxEntries: 1 });
export const aux = arrayMap({ valueSize: 8, maxEntries: 4 });
const mix = (x: u32, k: u32): u32 => {
  let h: u32 = x;
  for (let i: u32 = 0; i < 3; i++) {
    const e = aux.lookup(i);
    if (e !== null) h = u32(h * 31 + e.u8(0) + k);
  }
  return h & 0xffff;
};
const pick = (v: Bytes, at: u32): u32 => v.u8(at & 15);
`;

const CASES: Record<string, string> = {
  // scalars made before a sub-view and held past helper calls inside inlined loops, the view used
  // after the last call: more than R6–R9 live across the calls
  'scalars and a sub-view held across helper calls in inlined loops': `
  const a = d.u8(0);
  const b = u32(d.u8(1) + a);
  const c = u32(d.u8(2) ^ a);
  const base = (a & 31) + 4;
  const v = d.sub(base, 16);
  const e = mix(a, b);
  const f = u32(d.u8(3) * 3 + c);
  const g = mix(c, f);
  const h = u32(pick(v, a) + e);
  const k = mix(g, h);
  const w = d.sub(base & 15, 32);
  const m = mix(k, base);
  return u32(a + b + c + e + f + g + h + k + m + pick(v, b) + pick(w, c) + w.u8(16) + base) & 0x7fffffff;`,
  // values that die one after another while longer ones are spilled and a view stays live
  'staggered lifetimes around calls with a view live throughout': `
  const v = d.sub(d.u8(0) & 31, 32);
  let s: u32 = 0;
  const x0 = d.u8(4);
  const x1 = d.u8(5);
  const x2 = d.u8(6);
  const x3 = mix(x0, x1);
  s = u32(s + x0);
  const x4 = mix(x2, x3);
  s = u32(s + x1 + v.u8(1));
  const x5 = mix(x4, s);
  s = u32(s + x2 + x3);
  const x6 = u32(x5 ^ pick(v, x4));
  const x7 = mix(x6, x5);
  return u32(s + x4 + x5 + x6 + x7 + v.u8(31) + pick(v, x7)) & 0x7fffffff;`,
};

describe('stack slots of spilled values, views included', () => {
  for (const [name, body] of Object.entries(CASES)) {
    it(name, () => expectSameOnByteSweep(FILE, programText(HEAD, body), 3));
  }
});
