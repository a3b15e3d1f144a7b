/**
 * One accept/reject pair per modelled rule. Expected messages and log lines are what Linux 6.18 printed
 * for the same programs on the development machine (privileged, socket filter).
 */
import { describe, expect, it } from 'vitest';
import type { RawSlot } from '../../../bpf/isa/index.ts';
import { socketFilter, tracingFentry, verify } from '../../../runtime/verifier/index.ts';

const S = (code: number, dst = 0, src = 0, off = 0, imm = 0): RawSlot => ({ code, dst, src, off, imm });
const EXIT = S(0x95);
const R0_0 = S(0xb7);
const run = (p: RawSlot[], logLevel = 1) => verify(p, { policy: socketFilter, logLevel });
const rejects = (p: RawSlot[], message: string) => {
  const r = run(p);
  expect(r.accepted).toBe(false);
  expect(r.error?.message).toBe(message);
  expect(r.log).toContain(`${message}\nprocessed `);
};

describe('static checks (check_subprogs, resolve_pseudo_ldimm64, check_cfg)', () => {
  it('jump out of range', () => {
    rejects([S(0x05, 0, 0, 5), S(0xff), EXIT], 'jump out of range from insn 0 to 6');
    expect(run([S(0x05, 0, 0, 0), R0_0, EXIT]).accepted).toBe(true);
  });
  it('last insn', () => rejects([R0_0], 'last insn is not an exit or jmp'));
  it('unreachable', () => rejects([R0_0, EXIT, EXIT], 'unreachable insn 2'));
  it('jump over an lddw leaves it unreachable', () =>
    rejects([S(0x05, 0, 0, 1), S(0x18, 0, 0, 0, 5), S(0), EXIT], 'unreachable insn 1'));
  it('call to invalid destination', () => rejects([S(0x85, 0, 1, 0, 10), EXIT], 'call to invalid destination'));
  it('unknown opcode', () => rejects([S(0xff), R0_0, EXIT], 'unknown opcode ff'));
  it('LDX reserved fields are checked before exploration', () =>
    rejects([S(0x61, 0, 1, 0, 1), EXIT], 'BPF_LDX uses reserved fields'));
  it('back-edges are bounded loops for root', () => {
    const loop = [R0_0, S(0x07, 0, 0, 0, 1), S(0xa5, 0, 0, -2, 10), EXIT];
    const r = run(loop);
    expect(r.accepted).toBe(true);
    expect(r.stats.insnProcessed).toBe(22);
    const inf = run([R0_0, S(0x15, 0, 0, -2, 0), EXIT]);
    expect(inf.error?.message).toBe('infinite loop detected at insn 1');
    expect(inf.stats.insnProcessed).toBe(10);
    expect(inf.log).toContain('0: (b7) r0 = 0\ninfinite loop detected at insn 1\ncur state: R0=0 R1=ctx() R10=fp0\n');
  });
});

describe('registers and ALU', () => {
  it('R%d !read_ok', () => {
    rejects([S(0xbf, 0, 2), EXIT], 'R2 !read_ok');
    expect(run([S(0xbf, 0, 1), R0_0, EXIT]).accepted).toBe(true);
  });
  it('R0 at exit', () => rejects([EXIT], 'R0 !read_ok'));
  it('frame pointer is read only', () => rejects([S(0xb7, 10, 0, 0, 1), EXIT], 'frame pointer is read only'));
  it('div by zero (K) and invalid shift', () => {
    rejects([R0_0, S(0x37, 0, 0, 0, 0), EXIT], 'div by zero');
    expect(run([R0_0, S(0x37, 0, 0, 0, 3), EXIT]).accepted).toBe(true);
    rejects([R0_0, S(0x67, 0, 0, 0, 64), EXIT], 'invalid shift 64');
    expect(run([R0_0, S(0x67, 0, 0, 0, 63), EXIT]).accepted).toBe(true);
  });
  it('reserved fields checked when the instruction is reached', () =>
    rejects([S(0x07, 0, 1, 0, 1), EXIT], 'BPF_ALU uses reserved fields'));
  it('32-bit pointer arithmetic', () => {
    rejects([S(0xbf, 1, 10), S(0x04, 1, 0, 0, 4), R0_0, EXIT], 'R1 32-bit pointer arithmetic prohibited');
    expect(run([S(0xbf, 1, 10), S(0x07, 1, 0, 0, -4), R0_0, EXIT]).accepted).toBe(true);
  });
  it('scalar tracking matches the kernel log', () => {
    const r = run([S(0x71, 0, 1, 0), S(0x47, 0, 0, 0, 0x40), S(0x07, 0, 0, 0, 1), EXIT], 2);
    expect(r.log).toBe(
      [
        'func#0 @0',
        '0: R1=ctx() R10=fp0',
        '0: (71) r0 = *(u8 *)(r1 +0)           ; R0=scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff)) R1=ctx()',
        '1: (47) r0 |= 64                      ; R0=scalar(smin=umin=smin32=umin32=64,smax=umax=smax32=umax32=255,var_off=(0x40; 0xbf))',
        '2: (07) r0 += 1                       ; R0=scalar(smin=umin=smin32=umin32=65,smax=umax=smax32=umax32=256,var_off=(0x0; 0x1ff))',
        '3: (95) exit',
        'processed 4 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0',
        '',
      ].join('\n'),
    );
  });
  it('neg, mul by -1, bswap, lsh, movsx as the kernel bounds them', () => {
    const line = (p: RawSlot[]) => run([S(0x71, 0, 1, 0), ...p, R0_0, EXIT], 2).log.split('\n')[3];
    expect(line([S(0x87)])).toContain('; R0=scalar(smin=smin32=-255,smax=smax32=0)');
    expect(line([S(0x84)])).toContain(
      'R0=scalar(smin=0,smax=umax=0xffffffff,smin32=-255,smax32=0,var_off=(0x0; 0xffffffff))',
    );
    expect(line([S(0x27, 0, 0, 0, -1)])).toContain('R0=scalar(smin=smin32=-255,smax=smax32=0)');
    expect(line([S(0xd7, 0, 0, 0, 16)])).toContain(
      'R0=scalar(smin=smin32=0,smax=umax=smax32=umax32=0xff00,var_off=(0x0; 0xff00))',
    );
    expect(line([S(0x67, 0, 0, 0, 60)])).toContain(
      'R0=scalar(smax=0x7000000000000000,umax=0xf000000000000000,smin32=0,smax32=umax32=0,var_off=(0x0; 0xf000000000000000))',
    );
    expect(line([S(0xbf, 2, 0)])).toContain('R2=scalar(id=1,smin=smin32=0');
  });
});

describe('bounds that meet the tnum in one value (Linux 6.18.y)', () => {
  // r7 = prandom & 0xff00; 16 <= r7 <= 60 holds for no member: the kernel's reg_bounds_sync makes r7 the
  // tnum's maximum (0 here), and the dead branch stays verifiable (fp-8 + 0).
  const program = [
    S(0x85, 0, 0, 0, 7),
    S(0xbf, 7, 0),
    S(0x57, 7, 0, 0, 0xff00),
    S(0xa5, 7, 0, 6, 16),
    S(0x25, 7, 0, 5, 60),
    S(0xbf, 6, 10),
    S(0x07, 6, 0, 0, -8),
    S(0x0f, 6, 7),
    S(0xb7, 1, 0, 0, 0),
    S(0x7b, 6, 1, 0),
    R0_0,
    EXIT,
  ];
  it('the fall-through of an impossible range is the constant, as the kernel logs it', () => {
    const r = run(program, 2);
    expect(r.accepted).toBe(true);
    expect(r.log).toContain('4: (25) if r7 > 0x3c goto pc+5        ; R7=0\n');
    expect(r.log).toContain('9: (7b) *(u64 *)(r6 +0) = r1          ; R1=0 R6=fp-8 fp-8=0\n');
  });
});

describe('stack', () => {
  it('out of bounds write', () => {
    rejects([S(0x7a, 10, 0, 8, 5), R0_0, EXIT], 'invalid write to stack R10 off=8 size=8');
    expect(run([S(0x7a, 10, 0, -8, 5), R0_0, EXIT]).accepted).toBe(true);
  });
  it('misaligned access', () => {
    rejects([S(0x7b, 10, 1, -12), R0_0, EXIT], 'misaligned stack access off 0+0+-12 size 8');
    expect(run([S(0x7b, 10, 1, -16), R0_0, EXIT]).accepted).toBe(true);
  });
  it('spill/fill keeps constants and pointers; partial writes become misc', () => {
    const r = run([S(0x7a, 10, 0, -8, 5), S(0x79, 0, 10, -8), S(0x63, 10, 0, -12), EXIT], 2);
    expect(r.log).toContain('; R10=fp0 fp-8=5');
    expect(r.log).toContain('; R0=5 R10=fp0 fp-8=5');
    expect(r.log).toContain('fp-16=mmmm????');
    const p = run([S(0x7b, 10, 1, -8), S(0x79, 2, 10, -8), S(0x61, 0, 2, 0), EXIT], 2);
    expect(p.accepted).toBe(true);
    expect(p.log).toContain('fp-8=ctx()');
  });
  it('stack depth statistic', () => {
    const r = verify([S(0x7a, 10, 0, -8, 5), S(0x79, 0, 10, -8), S(0x63, 10, 0, -12), EXIT], {
      policy: socketFilter,
      logLevel: 4,
    });
    expect(r.log).toContain('stack depth 16\n');
  });
});

describe('context and memory', () => {
  it('invalid ctx access', () => {
    rejects([S(0x61, 0, 1, 200), EXIT], 'invalid bpf_context access off=200 size=4');
    expect(run([S(0x61, 0, 1, 0), EXIT]).accepted).toBe(true);
  });
  it('modified ctx pointer', () =>
    rejects([S(0x07, 1, 0, 0, 4), S(0x61, 0, 1, 0), EXIT], 'dereference of modified ctx ptr R1 off=4 disallowed'));
  it('scalar dereference', () => rejects([S(0xb7, 1), S(0x61, 0, 1, 0), EXIT], "R1 invalid mem access 'scalar'"));
  it('fentry return value must be 0', () => {
    const policy = tracingFentry([{ kind: 'scalar' }]);
    const bad = verify([S(0xb7, 0, 0, 0, 1), EXIT], { policy });
    expect(bad.error?.message).toBe('At program exit the register R0 has smin=1 smax=1 should have been in [0, 0]');
    expect(verify([S(0x79, 2, 1, 0), R0_0, EXIT], { policy }).accepted).toBe(true);
  });
});

describe('branches', () => {
  it('both successors refined, from-line printed', () => {
    const r = run([S(0x71, 0, 1, 0), S(0x25, 0, 0, 1, 8), S(0xb7, 0, 0, 0, 1), EXIT], 2);
    expect(r.log).toContain(
      '1: (25) if r0 > 0x8 goto pc+1         ; R0=scalar(smin=smin32=0,smax=umax=smax32=umax32=8,var_off=(0x0; 0xf))',
    );
    expect(r.log).toContain(
      '\nfrom 1 to 3: R0=scalar(smin=umin=smin32=umin32=9,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff)) R1=ctx() R10=fp0\n',
    );
    expect(r.stats.insnProcessed).toBe(5);
  });
  it('level 1 keeps only the failing path, joined the kernel way', () => {
    const r = run([S(0x71, 0, 1, 0), S(0x25, 0, 0, 2, 8), S(0xb7, 0, 0, 0, 1), EXIT, S(0xbf, 0, 2), EXIT]);
    expect(r.log).toContain('1: (25) if r0 > 0x8 goto pc+2 4: R0=scalar(');
    expect(r.error?.message).toBe('R2 !read_ok');
  });
});

describe('not yet modelled', () => {
  it('kfunc calls say so instead of guessing', () => {
    const r = run([S(0x85, 0, 2, 0, 5), EXIT]);
    expect(r.accepted).toBe(false);
    expect(r.error?.unsupported).toBe(true);
  });
});
