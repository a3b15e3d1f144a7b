/**
 * The verifier-log form: a table of instructions and the text kernel/bpf/disasm.c prints, and a
 * differential test against the running kernel's verifier log (bpftool -d prog loadall, log level
 * 1+2+4) for the clang fixtures.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { disassembleKernel, kernelLogLine } from '../../../bpf/asm/kernel-log.ts';
import { type Insn, insnNamed, lddw, makeInsn, spec } from '../../../bpf/isa/index.ts';
import { type Cpu, clangFixtures, compileFixture } from '../../support/clang.ts';
import { findTool, missingBpf, missingTool } from '../../support/env.ts';
import { codeSections, V3_ONLY } from './llvm-objects.ts';

const i = insnNamed;
const K = 'K' as const;
const X = 'X' as const;

/** Instruction → the text after `N: ` in a verifier log (formats of kernel/bpf/disasm.c, Linux 6.18). */
const TABLE: [Insn, string][] = [
  [i('mov', { dst: 0, imm: 0 }, K), '(b7) r0 = 0'],
  [i('add', { dst: 1, imm: -8 }, K), '(07) r1 += -8'],
  [i('mov', { dst: 2, src: 10 }, X), '(bf) r2 = r10'],
  [i('sub32', { dst: 2, src: 3 }, X), '(1c) w2 -= w3'],
  [i('mov32', { dst: 1, imm: 0 }, K), '(b4) w1 = 0'],
  [i('arsh', { dst: 1, imm: 3 }, K), '(c7) r1 s>>= 3'],
  [i('neg', { dst: 3 }), '(87) r3 = -r3'],
  [i('neg32', { dst: 3 }), '(84) w3 = -w3'],
  [i('be16', { dst: 1 }), '(dc) r1 = be16 r1'],
  [i('le64', { dst: 1 }), '(d4) r1 = le64 r1'],
  [i('bswap32', { dst: 2 }), '(d7) r2 = bswap32 r2'],
  [i('sdiv', { dst: 1, src: 2 }, X), '(3f) r1 s/= r2'],
  [i('smod32', { dst: 1, imm: -3 }, K), '(94) w1 s%= -3'],
  [i('movsx864', { dst: 1, src: 2 }), '(bf) r1 = (s8)r2'],
  [i('movsx1632', { dst: 1, src: 2 }), '(bc) w1 = (s16)w2'],
  [i('stw', { dst: 10, off: -8, imm: 0 }), '(62) *(u32 *)(r10 -8) = 0'],
  [i('stxdw', { dst: 10, src: 1, off: -16 }), '(7b) *(u64 *)(r10 -16) = r1'],
  [i('ldxw', { dst: 3, src: 1, off: 0 }), '(61) r3 = *(u32 *)(r1 +0)'],
  [i('ldxsh', { dst: 3, src: 1, off: 4 }), '(89) r3 = *(s16 *)(r1 +4)'],
  [i('ldabsh', { imm: 12 }), '(28) r0 = *(u16 *)skb[12]'],
  [i('ldindb', { src: 6, imm: 4 }), '(50) r0 = *(u8 *)skb[r6 + 4]'],
  [lddw(1, 0xffff88810613fa00n, 1), '(18) r1 = 0xffff88810613fa00'],
  [lddw(2, 0x7fn), '(18) r2 = 0x7f'],
  [i('lock_add', { dst: 0, src: 6 }), '(db) lock *(u64 *)(r0 +0) += r6'],
  [i('lock_or32', { dst: 1, src: 2, off: -4 }), '(c3) lock *(u32 *)(r1 -4) |= r2'],
  [i('lock_fetch_add', { dst: 1, src: 2 }), '(db) r2 = atomic64_fetch_add((u64 *)(r1 +0), r2)'],
  [i('lock_fetch_and32', { dst: 1, src: 2 }), '(c3) r2 = atomic_fetch_and((u32 *)(r1 +0), r2)'],
  [i('lock_xchg', { dst: 1, src: 2 }), '(db) r2 = atomic64_xchg((u64 *)(r1 +0), r2)'],
  [i('lock_cmpxchg32', { dst: 1, src: 2 }), '(c3) r0 = atomic_cmpxchg((u32 *)(r1 +0), r0, r2)'],
  [i('jeq', { dst: 0, imm: 0, off: 1 }, K), '(15) if r0 == 0x0 goto pc+1'],
  [i('jslt', { dst: 6, imm: -4, off: 6 }, K), '(c5) if r6 s< 0xfffffffc goto pc+6'],
  [i('jne32', { dst: 1, src: 2, off: -3 }, X), '(5e) if w1 != w2 goto pc-3'],
  [i('jset', { dst: 1, imm: 8, off: 0 }, K), '(45) if r1 & 0x8 goto pc+0'],
  [i('ja', { off: -1 }), '(05) goto pc-1'],
  [i('ja32', { imm: 70000 }), '(06) gotol pc+70000'],
  [i('call', { imm: 1 }), '(85) call bpf_map_lookup_elem#1'],
  [i('call', { imm: 131 }), '(85) call bpf_ringbuf_reserve#131'],
  [i('call', { imm: 99999 }), '(85) call unknown#99999'],
  [i('call_local', { imm: 3 }), '(85) call pc+3'],
  [i('call_local', { imm: -5 }), '(85) call pc-5'],
  [makeInsn(spec('call_kfunc'), { imm: 1234 }), '(85) call kernel-function#1234'],
  [i('exit'), '(95) exit'],
];

describe('kernel verifier-log disassembler', () => {
  it('prints each form as kernel/bpf/disasm.c does', () => {
    const lines = disassembleKernel(TABLE.map((r) => r[0]));
    let pc = 0;
    const expected = TABLE.map(([insn, text]) => {
      const line = `${pc}: ${text}`;
      pc += insn.spec.slots;
      return line;
    });
    expect(lines).toEqual(expected);
  });

  it('takes callbacks for names and 64-bit values, and hides pointers without ptr leaks', () => {
    const map = lddw(1, 0xffff888100000000n, 1);
    const kf = makeInsn(spec('call_kfunc'), { imm: 77 });
    expect(kernelLogLine(map, 4, { imm64: (_, v) => `map[id:${v & 0xffn}]` })).toBe('4: (18) r1 = map[id:0]');
    expect(kernelLogLine(map, 4, { allowPtrLeaks: false })).toBe('4: (18) r1 = 0x0');
    expect(kernelLogLine(lddw(1, 5n), 0, { allowPtrLeaks: false })).toBe('0: (18) r1 = 0x5');
    expect(kernelLogLine(kf, 9, { kfuncName: () => 'bpf_obj_new_impl', index: false })).toBe(
      '(85) call bpf_obj_new_impl#77',
    );
    expect(kernelLogLine(i('call', { imm: 212 }), 0, { helperName: () => undefined })).toBe('0: (85) call unknown#212');
    expect(kernelLogLine(i('call', { imm: 212 }), 0)).toBe('0: (85) call bpf_helper_carrier#212');
  });
});

const LOG_LINE = /^(\d+): (\([0-9a-f]{2}\) .*?)(?:\s+;.*)?$/;
const CPUS: readonly Cpu[] = ['v1', 'v3'];
const tally = { programs: 0, lines: 0, matched: 0, rejected: [] as string[] };

/** Per program: the log lines `pc → text` of the kernel's verifier log. */
const kernelLogs = (obj: string, pinDir: string): Map<string, Map<number, string>> => {
  mkdirSync(pinDir, { recursive: true });
  try {
    const r = spawnSync(findTool('bpftool') as string, ['-d', 'prog', 'loadall', obj, pinDir], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      timeout: 60_000,
    });
    const logs = new Map<string, Map<number, string>>();
    let current: Map<number, string> | undefined;
    for (const line of `${r.stdout}\n${r.stderr}`.split('\n')) {
      const begin = /prog '([^']+)': -- BEGIN PROG LOAD LOG --/.exec(line);
      if (begin !== null) {
        current = new Map();
        logs.set(begin[1] as string, current);
      } else if (line.startsWith('-- END PROG LOAD LOG --')) {
        current = undefined;
      } else if (current !== undefined) {
        const m = LOG_LINE.exec(line);
        if (m !== null) current.set(Number(m[1]), m[2] as string);
      }
    }
    return logs;
  } finally {
    rmSync(pinDir, { recursive: true, force: true });
  }
};

describe('kernel verifier log differential (bpftool -d prog loadall)', () => {
  for (const source of clangFixtures()) {
    for (const cpu of CPUS) {
      it(`${basename(source)} -mcpu=${cpu}`, (ctx) => {
        const why = missingTool('clang', 'bpftool') ?? missingBpf();
        if (why) ctx.skip(why);
        let obj: string;
        try {
          obj = compileFixture(source, cpu);
        } catch (e) {
          // Not a skip: a v3-only fixture must be refused below v3 (see V3_ONLY), and nothing else may be.
          expect(V3_ONLY.has(basename(source)) && cpu !== 'v3', String(e)).toBe(true);
          return;
        }
        const logs = kernelLogs(obj, `/sys/fs/bpf/ukibpf-klog-${process.pid}`);
        if (logs.size === 0) {
          tally.rejected.push(`${basename(source)}/${cpu}`);
          ctx.skip(
            'the kernel refused to load it: EPERM before verification (empty verifier log). This kernel refuses every fentry program so (fentry/bpf_fentry_test1 too; it runs locked down, "integrity"), so there is no kernel log to compare',
          );
        }
        for (const sec of codeSections(obj)) {
          for (const fn of sec.functions) {
            const log = logs.get(fn.name);
            if (log === undefined) continue;
            tally.programs++;
            // The loaded program starts with this function; libbpf appends subprograms after it.
            const first = fn.offset / 8;
            const ours = new Map<number, string>();
            let pc = 0;
            for (const insn of sec.insns) {
              if (pc >= first && pc < first + fn.size / 8)
                ours.set(pc - first, kernelLogLine(insn, 0, { index: false }));
              pc += insn.spec.slots;
            }
            for (const [at, theirs] of log) {
              const mine = ours.get(at);
              if (mine === undefined) continue;
              tally.lines++;
              // libbpf rewrites map addresses and bpf-to-bpf call distances: compare up to them.
              const cut = /^\((18|85)\) (r\d+ = |call pc)/.exec(theirs);
              if (cut) expect(mine.startsWith(cut[0]), `${fn.name} insn ${at}: ${mine} vs ${theirs}`).toBe(true);
              else expect(mine, `${fn.name} insn ${at}`).toBe(theirs);
              tally.matched++;
            }
          }
        }
      });
    }
  }

  afterAll(() => {
    if (tally.programs === 0) return;
    process.stdout.write(
      `\nkernel verifier log lines matched: ${tally.matched}/${tally.lines} in ${tally.programs} programs` +
        `${tally.rejected.length ? `; not loadable here: ${tally.rejected.join(', ')}` : ''}\n`,
    );
  });
});
