import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assembleUbpf, disassembleUbpf, formatImm } from '../../../bpf/asm/ubpf/index.ts';
import {
  decode,
  type Insn,
  type InsnFields,
  IsaError,
  insnNamed,
  lddw,
  makeInsn,
  OPCODES,
  type OpSpec,
  sameInsn,
} from '../../../bpf/isa/index.ts';

const reg = fc.integer({ min: 0, max: 10 });
const s16 = fc.integer({ min: -0x8000, max: 0x7fff });
const s32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });

/** Any valid instance of a row: every field the form uses, random; unused fields zero. */
const insnOf = (spec: OpSpec): fc.Arbitrary<Insn> => {
  const make = (f: InsnFields): Insn => makeInsn(spec, f);
  switch (spec.kind) {
    case 'alu':
      return (spec.source === 'X' ? fc.record({ dst: reg, src: reg }) : fc.record({ dst: reg, imm: s32 })).map(make);
    case 'neg':
    case 'end':
    case 'callx':
      return fc.record({ dst: reg }).map(make);
    case 'lddw':
      return fc.record({ dst: reg, imm: s32, imm2: s32 }).map(make);
    case 'ldabs':
      return fc.record({ imm: s32 }).map(make);
    case 'ldind':
      return fc.record({ src: reg, imm: s32 }).map(make);
    case 'ldx':
    case 'stx':
    case 'atomic':
      return fc.record({ dst: reg, src: reg, off: s16 }).map(make);
    case 'st':
      return fc.record({ dst: reg, off: s16, imm: s32 }).map(make);
    case 'jmp':
      return (
        spec.source === 'X' ? fc.record({ dst: reg, src: reg, off: s16 }) : fc.record({ dst: reg, imm: s32, off: s16 })
      ).map(make);
    case 'ja':
      return fc.record({ off: s16 }).map(make);
    case 'ja32':
      return fc.record({ imm: s32 }).map(make);
    case 'call':
      return (spec.op === 'kfunc' ? fc.record({ imm: s32, off: s16 }) : fc.record({ imm: s32 })).map(make);
    case 'exit':
      return fc.constant(make({}));
    default:
      throw new Error(`no generator for ${spec.kind}`);
  }
};

const anyInsn = fc.constantFrom(...OPCODES).chain(insnOf);

const roundTrips = (p: readonly Insn[]): boolean => {
  const again = assembleUbpf(disassembleUbpf(p).join('\n')).insns;
  return again.length === p.length && again.every((insn, i) => sameInsn(insn, p[i] as Insn));
};

describe('disassembleUbpf', () => {
  it('formats immediates as the reference disassembler', () => {
    expect([0, 10, -10, 11, -11, 255, -0x80000000, 0x7fffffff].map(formatImm)).toEqual([
      '0',
      '10',
      '-10',
      '0xb',
      '-11',
      '0xff',
      '0x80000000',
      '0x7fffffff',
    ]);
  });

  it('writes one re-assemblable line per instruction', () => {
    const p = [
      lddw(1, 0x1122334455667788n),
      insnNamed('ldxw', { dst: 0, src: 10, off: -4 }),
      insnNamed('stb', { dst: 1, off: 0, imm: 0x7f }),
      insnNamed('jsgt32', { dst: 1, imm: -3, off: 1 }, 'K'),
      insnNamed('lock_fetch_add32', { dst: 10, src: 1, off: -4 }),
      insnNamed('lock_xchg', { dst: 10, src: 1, off: -8 }),
      insnNamed('call_local', { imm: -3 }),
      insnNamed('call_kfunc', { imm: 12, off: 1 }),
      insnNamed('callx', { dst: 2 }),
      insnNamed('bswap64', { dst: 3 }),
      insnNamed('movsx832', { dst: 0, src: 1 }),
      insnNamed('ja32', { imm: 100000 }),
      insnNamed('exit'),
    ];
    expect(disassembleUbpf(p)).toEqual([
      'lddw %r1, 0x1122334455667788',
      'ldxw %r0, [%r10-4]',
      'stb [%r1], 0x7f',
      'jsgt32 %r1, -3, +1',
      'lock fetch add32 [%r10-4], %r1',
      'lock xchg [%r10-8], %r1',
      'call local -3',
      'call runtime 0xc, 1',
      'call %r2',
      'bswap64 %r3',
      'movsx832 %r0, %r1',
      'ja32 +100000',
      'exit',
    ]);
    expect(roundTrips(p)).toBe(true);
  });

  it('refuses an instruction whose fields no encoding has, naming its slot', () => {
    const bad = [
      lddw(0, 1n),
      makeInsn(OPCODES.find((s) => s.name === 'add' && s.source === 'K') as OpSpec, { src: 3 }),
    ];
    expect(() => disassembleUbpf(bad)).toThrow(IsaError);
    expect(() => disassembleUbpf(bad)).toThrow('insn 2: BPF_ALU uses reserved fields');
  });

  it('round-trips one sample of every row of the opcode table', () => {
    for (const spec of OPCODES) {
      const insn = fc.sample(insnOf(spec), { numRuns: 1, seed: spec.id })[0] as Insn;
      expect(roundTrips([insn]), spec.name).toBe(true);
    }
  });

  it('assemble(disassemble(p)) gives back p for random valid programs', () => {
    fc.assert(
      fc.property(fc.array(anyInsn, { minLength: 1, maxLength: 16 }), (p) => roundTrips(p)),
      { numRuns: 2000 },
    );
  });

  it('agrees with decode on the bytes it was given', () => {
    const p = assembleUbpf('mov %r0, 1\nlddw %r2, 0xffffffff00000001\njne %r0, 2, +1\nexit\nexit').insns;
    const text = disassembleUbpf(p);
    const bytes = new Uint8Array(
      Buffer.from(
        'b700000001000000 1802000001000000 00000000ffffffff 5500010002000000 9500000000000000 9500000000000000'.replace(
          / /g,
          '',
        ),
        'hex',
      ),
    );
    expect(disassembleUbpf(decode(bytes))).toEqual(text);
  });
});
