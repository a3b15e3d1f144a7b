/**
 * Programs the generator (generated.test.ts) found wrong, kept as fixed cases: each passes our
 * verifier and agrees natively and compiled for every value of the input byte it depends on.
 */
import { describe, it } from 'vitest';
import { expectSameOnByteSweep, programText } from './support/byte-sweep.ts';

const FILE = new URL('./programs/regressions.ts', import.meta.url).pathname;
const HEAD = `import { arrayMap, i8, i32, program, u32, udiv, umod } from '../../../compiler/dsl/index.ts';
export const input = arrayMap({ valueSize: 64, maxEntries: 1 });
`;

const CASES: Record<string, string> = {
  // x % 0 = x: the divisor's range 0..6 does not bound the result
  'umod by a divisor that may be 0': `
  let r: u32 = 0;
  for (let j: u32 = 0; j < 7; j++) r = u32(r + (umod(u32(-128 + d.u8(0)), j) & 0xff));
  return r & 0x7fffffff;`,
  // a constant 0 divisor is not an instruction the verifier accepts
  'udiv and umod by a constant 0': `
  return u32(udiv(u32(d.u8(0)), 0) + umod(u32(d.u8(0)), 0));`,
  // the verifier does not bound shifts by a register: the offset gets a mask it follows
  'offset through a shift by a register': `
  return d.u8(u32((d.u8(0) & 1) << (d.u8(0) & 3)));`,
  // the verifier does not bound divisions either
  'offset through a division': `
  return d.u8(udiv(u32(d.u8(0)), 5));`,
  // an offset of x + k with x proven in range: k goes in the instruction
  'offset x + k': `
  let s: u32 = 0;
  for (let i: u32 = 0; i < 8; i++) s = u32(s + d.u8(i + 40) + d.u8(i));
  return s & 0xffff;`,
  // a range narrowed by a branch on a zero-extended value: a 32-bit use must not read the register
  // before the extension (the verifier learned the bound on the extended one)
  'narrowed zero-extended value under a mask': `
  const c = u32(u32((d.i8(40) ^ 145) - 176));
  if (c > 31) return 1;
  return u32(d.u8(c & 63) + d.u16(c & 63) + u32(d.u32(c & 63))) & 0x7fffffff;`,
  // a constant whose value is a variable's register (the wrap was a no-op) keeps its value when the
  // variable changes
  'constant bound to a variable that changes later': `
  let v: i32 = 1;
  const c = i8(v);
  for (let j: u32 = 0; j < 4; j++) v = i32(d.u8(j) * 1000);
  return d.u8(u32(c)) + c + (v & 1);`,
};

describe('regressions found by generated programs', () => {
  for (const [name, body] of Object.entries(CASES)) {
    it(name, () => expectSameOnByteSweep(FILE, programText(HEAD, body)));
  }
});
