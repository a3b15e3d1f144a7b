import { describe, expect, it } from 'vitest';
import { assembleUbpf } from '../../../bpf/asm/ubpf/index.ts';
import { type Insn, insnNamed, LdImmSrc, lddw, OPCODES } from '../../../bpf/isa/index.ts';
import {
  codeAddress,
  HelperTable,
  KfuncTable,
  Memory,
  regionAddress,
  type RunInput,
  U,
  uopOf,
  Vm,
  VmError,
  type VmOptions,
} from '../../../runtime/vm/index.ts';

const asm = (text: string): readonly Insn[] => assembleUbpf(text).insns;
const run = (text: string | readonly Insn[], input: RunInput = {}, opts: VmOptions = {}) =>
  new Vm(typeof text === 'string' ? asm(text) : text, opts).run(input);
const failure = (f: () => unknown): VmError => {
  try {
    f();
  } catch (e) {
    if (e instanceof VmError) return e;
    throw e;
  }
  throw new Error('expected a VmError');
};

describe('micro-op table', () => {
  it('maps every opcode row to a micro-op', () => {
    for (const spec of OPCODES) expect(uopOf(spec), spec.name).toBeLessThan(U.TRAP);
  });
});

describe('memory model', () => {
  it('gives R1 the input, R2 its length, and checks every access against the region', () => {
    const mem = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    expect(run('ldxdw %r0, [%r1]\nexit', { mem }).r0).toBe(0x0807060504030201n);
    expect(run('mov %r0, %r2\nexit', { mem }).r0).toBe(8n);
    const e = failure(() => run('ldxdw %r0, [%r1+4]\nexit', { mem }));
    expect(e.code).toBe('BAD_ACCESS');
    expect(e.pc).toBe(0);
    expect(e.insn).toBe('ldxdw %r0, [%r1+4]');
    expect(e.size).toBe(8);
    expect(e.region).toMatch(/^input \[0xffff8008/);
    expect(e.address! & 0xffffffffn).toBe(4n);
    expect(e.message).toBe(
      'pc 0 (ldxdw %r0, [%r1+4]): out of bounds read of 8 bytes at 0xffff800800000004 (input [0xffff800800000000, +8))',
    );
  });

  it('rejects a null pointer and a pointer walked out of its region', () => {
    expect(failure(() => run('ldxb %r0, [%r1]\nexit')).region).toBe('no region');
    const e = failure(() => run('mov %r2, %r1\nsub %r2, 1\nldxb %r0, [%r2]\nexit', { mem: new Uint8Array(4) }));
    expect([e.code, e.pc]).toEqual(['BAD_ACCESS', 2]);
  });

  it('computes addresses with the full 64-bit carry (slow path of the loads and stores)', () => {
    // The input is region 8: its address minus 8 has a different high half; +8 carries back into it.
    const before = regionAddress(8) - 8n;
    const prog = [lddw(1, before), ...asm('ldxb %r0, [%r1+8]\nstb [%r1+9], 7\nldxb %r2, [%r1+9]\nadd %r0, %r2\nexit')];
    expect(run(prog, { mem: Uint8Array.of(5, 0) }).r0).toBe(12n);
    const high = [lddw(1, regionAddress(8) + 0x80000000n), ...asm('ldxb %r0, [%r1]\nexit')];
    expect(failure(() => run(high, { mem: Uint8Array.of(5) })).code).toBe('BAD_ACCESS');
  });

  it('has a 512-byte stack per frame below R10', () => {
    expect(run('stdw [%r10-512], 7\nldxdw %r0, [%r10-512]\nexit').r0).toBe(7n);
    expect(failure(() => run('stb [%r10], 1\nexit')).code).toBe('BAD_ACCESS');
    expect(failure(() => run('stb [%r10-513], 1\nexit')).code).toBe('BAD_ACCESS');
  });

  it('refuses stores into read-only regions and resolves map values through the host', () => {
    const memory = new Memory();
    const ro = memory.add('map_value', Uint8Array.of(42, 0, 0, 0), '.rodata', false);
    const resolveLddw = (kind: string, imm: number, imm2: number) =>
      kind === 'map_value' && imm === 3 ? ro.address + BigInt(imm2) : undefined;
    const load = [lddw(1, 0n, LdImmSrc.MAP_VALUE)].map((i) => ({ ...i, imm: 3 }));
    const prog = (tail: string) => [...load, ...asm(tail)];
    expect(run(prog('ldxw %r0, [%r1]\nexit'), {}, { memory, resolveLddw }).r0).toBe(42n);
    const e = failure(() => run(prog('stw [%r1], 1\nexit'), {}, { memory, resolveLddw }));
    expect([e.code, e.region]).toEqual(['READ_ONLY', expect.stringMatching(/^\.rodata/)]);
    expect(failure(() => new Vm(prog('exit'), { memory })).code).toBe('UNRESOLVED_LDDW');
  });
});

describe('control flow', () => {
  it('ends a runaway program at the instruction budget', () => {
    const e = failure(() => run('ja -1', {}, { maxInsns: 1000 }));
    expect([e.code, e.pc, e.insn]).toEqual(['BUDGET_EXCEEDED', 0, 'ja -1']);
    expect(run('mov %r0, 1\nexit', { maxInsns: 2 }).insns).toBe(2);
    expect(failure(() => run('mov %r0, 1\nexit', { maxInsns: 1 })).message).toBe(
      'pc 1 (exit): instruction budget of 1 exceeded',
    );
  });

  it('rejects bad programs when loading', () => {
    expect(failure(() => new Vm(asm('ja +5\nexit'))).message).toMatch(/jump out of range from insn 0 to 6/);
    expect(failure(() => new Vm(asm('mov %r10, 1\nexit'))).message).toMatch(/frame pointer is read only/);
    expect(failure(() => new Vm([])).code).toBe('BAD_PROGRAM');
    expect(failure(() => new Vm(asm('ja +1\nlddw %r0, 0x100000000\nexit'))).message).toMatch(/middle of ldimm64/);
    expect(failure(() => run('mov %r0, 1')).code).toBe('FELL_OFF_END');
  });

  it('makes bpf-to-bpf calls with their own frame, R6-R9 restored, at most 8 frames', () => {
    const prog = `
      mov %r6, 6
      stdw [%r10-8], 11
      call local fn
      ldxdw %r1, [%r10-8]
      add %r0, %r1
      add %r0, %r6
      exit
    fn:
      mov %r6, 100
      stdw [%r10-8], 1000
      mov %r0, 1
      exit`;
    expect(run(prog).r0).toBe(1n + 11n + 6n);
    const deep = (n: number) =>
      `mov %r1, ${n}\ncall local f\nexit\nf:\njeq %r1, 0, +3\nsub %r1, 1\ncall local f\nexit\nmov %r0, 9\nexit`;
    expect(run(deep(6)).r0).toBe(9n);
    const e = failure(() => run(deep(7)));
    expect([e.code, e.insn]).toEqual(['CALL_DEPTH', 'call local -3']);
  });

  it('calls through callx: a code address from lddw (src 4) or a helper id', () => {
    const target: Insn = { ...lddw(2, 0n, LdImmSrc.FUNC), imm: 3 };
    const prog = [target, ...asm('call %r2\nexit\nmov %r0, 77\nexit')];
    expect(run(prog).r0).toBe(77n);
    const helpers = new HelperTable([[9, (env) => env.setReturn(env.arg(1) * 2n)]]);
    expect(run('mov %r1, 21\nmov %r2, 9\ncall %r2\nexit', {}, { helpers }).r0).toBe(42n);
    expect(failure(() => run('mov %r2, 9\ncall %r2\nexit')).code).toBe('BAD_CALL_TARGET');
    expect(codeAddress(2)).toBe(0xffffffffa0000010n);
  });
});

describe('helpers and kfuncs', () => {
  it('dispatches helpers by id and names unknown ones', () => {
    const helpers = new HelperTable().set(1, (env) => env.setReturn(env.arg(1) + env.arg(2)));
    expect(run('mov %r1, 2\nmov %r2, 3\ncall 1\nexit', {}, { helpers }).r0).toBe(5n);
    const e = failure(() => run('call 99\nexit', {}, { helpers }));
    expect([e.code, e.message]).toEqual(['UNKNOWN_HELPER', 'pc 0 (call 0x63): unknown helper 99']);
    // An unknown helper on a path never taken does not stop the program.
    expect(run('ja +1\ncall 99\nmov %r0, 3\nexit').r0).toBe(3n);
  });

  it('turns a host exception in a helper into HELPER_FAULT, and helper memory errors keep their pc', () => {
    const helpers = new HelperTable([
      [
        1,
        () => {
          throw new TypeError('boom');
        },
      ],
      [2, (env) => void env.memory.slice(env.arg(1), 4)],
    ]);
    const e = failure(() => run('call 1\nexit', {}, { helpers }));
    expect([e.code, e.pc, e.cause instanceof TypeError]).toEqual(['HELPER_FAULT', 0, true]);
    const m = failure(() => run('mov %r1, 0\nmov %r0, 0\ncall 2\nexit', {}, { helpers }));
    expect([m.code, m.pc, m.insn]).toEqual(['BAD_ACCESS', 2, 'call 2']);
  });

  it('lets helpers hand out buffers that live for one run, and halt the program', () => {
    const helpers = new HelperTable([
      [7, (env) => env.setReturn(env.memory.add('helper', Uint8Array.of(0x5a, 0, 0, 0), 'scratch').address)],
      [8, (env) => env.halt()],
    ]);
    const vm = new Vm(asm('call 7\nldxw %r0, [%r0]\nexit'), { helpers });
    expect(vm.run().r0).toBe(0x5an);
    expect(vm.memory.count).toBe(8);
    expect(run('mov %r0, 4\ncall 8\nmov %r0, 5\nexit', {}, { helpers }).r0).toBe(4n);
  });

  it('calls kfuncs by BTF id through their names', () => {
    const kfuncs = new KfuncTable([['bpf_answer', (env) => env.setReturn(42n)]], [[1234, 'bpf_answer']]);
    const call = insnNamed('call_kfunc', { imm: 1234 });
    expect(run([call, ...asm('exit')], {}, { kfuncs }).r0).toBe(42n);
    const e = failure(() => run([insnNamed('call_kfunc', { imm: 99 }), ...asm('exit')], {}, { kfuncs }));
    expect([e.code, e.message]).toEqual(['UNKNOWN_KFUNC', 'pc 0 (call runtime 0x63): unknown kfunc btf_id 99']);
  });
});

describe('legacy packet loads', () => {
  it('read big-endian from the input and return 0 when out of bounds, as the kernel does', () => {
    const mem = Uint8Array.of(0x12, 0x34, 0x56, 0x78, 0x9a);
    expect(run([insnNamed('ldabsh', { imm: 1 }), ...asm('exit')], { mem }).r0).toBe(0x3456n);
    expect(run([insnNamed('ldabsw', { imm: 1 }), ...asm('exit')], { mem }).r0).toBe(0x3456789an);
    const ind = [...asm('mov %r7, 2\nmov %r0, 55'), insnNamed('ldindb', { src: 7, imm: 2 }), ...asm('exit')];
    expect(run(ind, { mem }).r0).toBe(0x9an);
    const oob = [...asm('mov %r0, 55'), insnNamed('ldabsw', { imm: 2 }), ...asm('mov %r0, 1\nexit')];
    expect(run(oob, { mem }).r0).toBe(0n);
  });
});

describe('trace', () => {
  it('reports each executed instruction with the registers it changed', () => {
    const steps: string[] = [];
    run('mov %r0, 1\nadd %r0, 2\nexit', {
      trace: (s) => steps.push(`${s.pc} ${s.insn}${s.changes.map(([r, v]) => ` r${r}=${v}`).join('')}`),
    });
    expect(steps).toEqual(['0 mov %r0, 1', '1 add %r0, 2 r0=3', '2 exit'].map((l, i) => (i === 0 ? `${l} r0=1` : l)));
    const failed: number[] = [];
    expect(() => run('mov %r0, 1\nldxb %r0, [%r1]\nexit', { trace: (s) => failed.push(s.pc) })).toThrow(VmError);
    expect(failed).toEqual([0, 1]);
    // Tracing runs the same loop one step at a time: same result, same count, same budget error.
    const loop = 'mov %r0, 0\nmov %r1, 5\nadd %r0, %r1\nsub %r1, 1\njne %r1, 0, -3\ncall local +1\nexit\nexit';
    const traced: number[] = [];
    expect(run(loop, { trace: (s) => traced.push(s.pc) })).toEqual(run(loop));
    expect(traced.length).toBe(run(loop).insns);
    const untraced = failure(() => run(loop, { maxInsns: 9 }));
    expect(failure(() => run(loop, { maxInsns: 9, trace: () => {} })).message).toBe(untraced.message);
  });
});
