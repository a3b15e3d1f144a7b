/**
 * fast-check generators of eBPF programs for the differential test and the fuzzer.
 * - `straightLine`: programs the kernel verifier accepts: registers R0..R5 initialised by lddw, then
 *   ALU (all widths, K and X, v4 included) and forward jumps only, then exit. No loops and no `neg`,
 *   so the kernel bug of ebpf.md §8 (neg + and/or in loops) cannot be reached.
 * - `anyInsns`: any row of the opcode table with arbitrary registers and fields (loads, stores,
 *   calls, backward jumps): for the fuzzer, whose only property is "ends with R0 or a VmError".
 */
import fc from 'fast-check';
import { type Insn, lddw, makeInsn, OPCODES, type OpSpec } from '../../../bpf/isa/index.ts';

const REGS = 6;
const reg = fc.integer({ min: 0, max: REGS - 1 });
const imm32 = fc.oneof(
  fc.integer({ min: -0x80000000, max: 0x7fffffff }),
  fc.integer({ min: -4, max: 70 }),
  fc.constantFrom(-0x80000000, 0x7fffffff, -1, 0xffff, 0x8000),
);
const u64 = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  fc.bigInt({ min: -300n, max: 300n }).map((v) => BigInt.asUintN(64, v)),
  fc.constantFrom(1n << 63n, (1n << 63n) - 1n, 0xffffffffn, 0x80000000n, (1n << 32n) + 1n),
);

const ALU: readonly OpSpec[] = OPCODES.filter((s) => s.kind === 'alu' || s.kind === 'end');
const JUMPS: readonly OpSpec[] = OPCODES.filter((s) => s.kind === 'jmp' || s.kind === 'ja' || s.kind === 'ja32');

/** An ALU instruction with fields the verifier accepts (shift counts in range, no division by K zero). */
const aluInsn: fc.Arbitrary<Insn> = fc
  .record({ spec: fc.constantFrom(...ALU), dst: reg, src: reg, imm: imm32 })
  .map(({ spec, dst, src, imm }) => {
    if (spec.kind === 'end') return makeInsn(spec, { dst });
    if (spec.source === 'X') return makeInsn(spec, { dst, src });
    let k = imm;
    if (spec.op === 'lsh' || spec.op === 'rsh' || spec.op === 'arsh')
      k = ((imm % spec.width) + spec.width) % spec.width;
    if ((spec.op === 'div' || spec.op === 'sdiv' || spec.op === 'mod' || spec.op === 'smod') && k === 0) k = 7;
    return makeInsn(spec, { dst, imm: k });
  });

/** Straight-line programs with forward jumps; every register read is initialised. */
export const straightLine: fc.Arbitrary<Insn[]> = fc
  .record({
    init: fc.array(u64, { minLength: REGS, maxLength: REGS }),
    body: fc.array(
      fc.oneof(
        { weight: 4, arbitrary: aluInsn.map((i) => ({ insn: i, jump: undefined })) },
        {
          weight: 1,
          arbitrary: fc
            .record({ spec: fc.constantFrom(...JUMPS), dst: reg, src: reg, imm: imm32, r: fc.nat() })
            .map((j) => ({
              insn: undefined,
              jump: j,
            })),
        },
      ),
      { minLength: 1, maxLength: 40 },
    ),
  })
  .map(({ init, body }) => {
    const out: Insn[] = init.map((v, r) => lddw(r, v));
    body.forEach((b, i) => {
      if (b.insn) {
        out.push(b.insn);
        return;
      }
      const j = b.jump as NonNullable<typeof b.jump>;
      const forward = j.r % (body.length - i); // lands at most on the final exit
      // An unconditional jump over code would leave it unreachable, which the verifier rejects.
      if (j.spec.kind === 'ja') out.push(makeInsn(j.spec, { off: 0 }));
      else if (j.spec.kind === 'ja32') out.push(makeInsn(j.spec, { imm: 0 }));
      else if (j.spec.source === 'X') out.push(makeInsn(j.spec, { dst: j.dst, src: j.src, off: forward }));
      else out.push(makeInsn(j.spec, { dst: j.dst, imm: j.imm, off: forward }));
    });
    out.push(makeInsn(OPCODES.find((s) => s.kind === 'exit') as OpSpec));
    return out;
  });

/** Any table row with arbitrary registers (0..10) and fields: valid encodings of possibly absurd programs. */
export const anyInsns: fc.Arbitrary<Insn[]> = fc.array(
  fc
    .record({
      spec: fc.constantFrom(...OPCODES),
      dst: fc.integer({ min: 0, max: 10 }),
      src: fc.integer({ min: 0, max: 10 }),
      off: fc.oneof(fc.integer({ min: -8, max: 8 }), fc.integer({ min: -0x8000, max: 0x7fff })),
      imm: fc.oneof(fc.integer({ min: -8, max: 8 }), imm32),
      imm2: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
    })
    .map(({ spec, dst, src, off, imm, imm2 }) => makeInsn(spec, { dst, src, off, imm, imm2 })),
  { minLength: 1, maxLength: 24 },
);
