import { describe, expect, it } from 'vitest';
import { assembleUbpf } from '../../../bpf/asm/ubpf/index.ts';
import {
  BpfError,
  closeFd,
  errnoName,
  MapType,
  mapCreate,
  mapLookup,
  mapUpdate,
  ProgType,
  progLoad,
  progLoadWithLog,
  progTestRun,
  verifierSummary,
  wrapProgram,
} from '../../../runtime/linux/index.ts';
import { missingBpf } from '../../support/env.ts';

const asm = (text: string) => assembleUbpf(text).insns;
const caught = (f: () => unknown): BpfError => {
  try {
    f();
  } catch (e) {
    if (e instanceof BpfError) return e;
    throw e;
  }
  throw new Error('expected a BpfError');
};

describe('errno and log decoding (no kernel needed)', () => {
  it('names errno values and summarises a verifier log', () => {
    expect([errnoName(1), errnoName(13), errnoName(22), errnoName(0)]).toEqual(['EPERM', 'EACCES', 'EINVAL', '']);
    const log =
      '0: R1=ctx() R10=fp0\n0: (95) exit\nR0 !read_ok\nprocessed 1 insns (limit 1000000) max_states_per_insn 0\n';
    expect(verifierSummary(log)).toBe('R0 !read_ok');
    expect(new BpfError('PROG_LOAD', 13, 'p', log).message).toBe('bpf PROG_LOAD: p: EACCES (errno 13): R0 !read_ok');
  });

  it('wraps a conformance program as a subprogram of an XDP program', () => {
    const wrapped = wrapProgram(asm('mov %r0, 1\nexit'), 7, 16);
    expect(wrapped.map((i) => i.spec.name)).toEqual([
      'lddw_map_value',
      'mov',
      'call_local',
      'lddw_map_value',
      'stxdw',
      'mov',
      'exit',
      'mov',
      'exit',
    ]);
    expect([wrapped[0]?.imm, wrapped[0]?.imm2, wrapped[1]?.imm]).toEqual([7, 8, 16]);
  });
});

describe('bpf(2) through koffi', () => {
  it('loads a program with its verifier log and runs it with PROG_TEST_RUN', (ctx) => {
    const why = missingBpf();
    if (why) ctx.skip(why);
    const { fd, log } = progLoad({
      progType: ProgType.XDP,
      insns: asm('mov %r0, 2\nexit'),
      logLevel: 1,
      name: 'ukibpf_test',
    });
    try {
      expect(log).toMatch(/processed 2 insns/);
      const once = progTestRun(fd, { dataIn: new Uint8Array(64) });
      expect(once.retval).toBe(2);
      expect(once.dataOut?.length).toBe(64);
      expect(progTestRun(fd, { dataIn: new Uint8Array(64), repeat: 1000 }).duration).toBeGreaterThan(0);
    } finally {
      closeFd(fd);
    }
  });

  it('returns the verifier log and errno name when the kernel rejects a program', (ctx) => {
    const why = missingBpf();
    if (why) ctx.skip(why);
    const e = caught(() => progLoadWithLog({ progType: ProgType.XDP, insns: asm('exit') }));
    expect([e.command, e.errnoName]).toEqual(['PROG_LOAD', 'EACCES']);
    expect(e.log).toMatch(/R0 !read_ok/);
    expect(e.message).toMatch(/R0 !read_ok$/);
  });

  it('creates, updates and looks up an array map; bad fds are EBADF', (ctx) => {
    const why = missingBpf();
    if (why) ctx.skip(why);
    const fd = mapCreate({ mapType: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 2, name: 'ukibpf_test' });
    try {
      const key = Uint8Array.of(1, 0, 0, 0);
      mapUpdate(fd, key, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
      expect([...mapLookup(fd, key, 8)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(caught(() => mapLookup(fd, Uint8Array.of(9, 0, 0, 0), 8)).errnoName).toBe('ENOENT');
    } finally {
      closeFd(fd);
    }
    expect(caught(() => mapLookup(fd, new Uint8Array(4), 8)).errnoName).toBe('EBADF');
  });
});
