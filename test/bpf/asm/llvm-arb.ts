/**
 * fast-check arbitraries of valid instructions: any row of OPCODES with fields the kernel's field
 * checks accept (unused fields zero, registers R0..R10).
 */
import fc from 'fast-check';
import { type Insn, makeInsn, OPCODES, type OpSpec } from '../../../bpf/isa/index.ts';

const reg = fc.integer({ min: 0, max: 10 });
const s16 = fc.integer({ min: -0x8000, max: 0x7fff });
const s32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
/** Small values are the interesting ones for printing (signs, zero); mix them in. */
const imm = fc.oneof(s32, fc.integer({ min: -20, max: 20 }));
const off = fc.oneof(s16, fc.integer({ min: -20, max: 20 }));

const fieldsFor = (spec: OpSpec): fc.Arbitrary<Insn> => {
  const build = (a: fc.Arbitrary<Partial<Record<'dst' | 'src' | 'off' | 'imm' | 'imm2', number>>>) =>
    a.map((f) => makeInsn(spec, f));
  switch (spec.kind) {
    case 'alu':
      return spec.source === 'K' ? build(fc.record({ dst: reg, imm })) : build(fc.record({ dst: reg, src: reg }));
    case 'neg':
    case 'end':
      return build(fc.record({ dst: reg }));
    case 'lddw':
      return build(fc.record({ dst: reg, imm, imm2: fc.oneof(imm, fc.constant(0)) }));
    case 'ldabs':
      return build(fc.record({ imm }));
    case 'ldind':
      return build(fc.record({ src: reg, imm: fc.oneof(imm, fc.constant(0)) }));
    case 'ldx':
    case 'stx':
    case 'atomic':
      return build(fc.record({ dst: reg, src: reg, off }));
    case 'st':
      return build(fc.record({ dst: reg, off, imm }));
    case 'jmp':
      return spec.source === 'K'
        ? build(fc.record({ dst: reg, imm, off }))
        : build(fc.record({ dst: reg, src: reg, off }));
    case 'ja':
      return build(fc.record({ off }));
    case 'ja32':
      return build(fc.record({ imm }));
    case 'call':
      // kfunc calls carry a BTF fd index in off; the other calls have off 0.
      return spec.op === 'kfunc'
        ? build(fc.record({ imm, off: fc.oneof(off, fc.constant(0)) }))
        : build(fc.record({ imm }));
    case 'callx':
      return build(fc.record({ dst: reg }));
    default:
      return build(fc.constant({}));
  }
};

/** Any valid instruction whose row satisfies `keep`. */
export const arbInsn = (keep: (spec: OpSpec) => boolean = () => true): fc.Arbitrary<Insn> =>
  fc.constantFrom(...OPCODES.filter(keep)).chain(fieldsFor);

/** A program of valid instructions. */
export const arbProgram = (keep?: (spec: OpSpec) => boolean, maxLength = 12): fc.Arbitrary<Insn[]> =>
  fc.array(arbInsn(keep), { minLength: 1, maxLength });
