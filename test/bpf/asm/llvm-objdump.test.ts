/**
 * Differential test against the real LLVM 14 toolchain:
 *  - every clang fixture (test/fixtures/clang/*.c) compiled for -mcpu=v1/v2/v3: for each executable
 *    section our text of every instruction equals `llvm-objdump -d`'s (and `--mattr=+alu32`'s), and
 *    assembling our text gives back the section's bytes;
 *  - random valid instructions of the forms LLVM 14 can print, assembled with llvm-mc from raw bytes.
 * Prints the summary line the README quotes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleLlvm, disassembleLlvm } from '../../../bpf/asm/llvm/index.ts';
import { encode, type Insn, type OpSpec } from '../../../bpf/isa/index.ts';
import { type Cpu, clangFixtures, compileFixture } from '../../support/clang.ts';
import { findTool, missingTool } from '../../support/env.ts';
import { arbInsn } from './llvm-arb.ts';
import { codeSections, objdumpTexts, V3_ONLY } from './llvm-objects.ts';

const CPUS: readonly Cpu[] = ['v1', 'v2', 'v3'];
const TOOLS = ['clang', 'llvm-objdump'];

/**
 * Without +alu32, LLVM 14 decodes only the 32-bit atomic add; the other 32-bit atomics come out as
 * `<unknown>`, and fetch_add32 as a plain add (its imm's fetch bit ignored). Those are compared
 * under --mattr=+alu32 only.
 */
const llvm14NeedsAlu32 = (insn: Insn): boolean =>
  insn.spec.kind === 'atomic' && insn.spec.width === 32 && insn.spec.op !== 'add';

const tally = {
  objects: 0,
  /** Objects whose every instruction matches plain `llvm-objdump -d`. */
  objectsMatched: 0,
  /** Objects whose every instruction matches `llvm-objdump -d --mattr=+alu32`. */
  objectsMatched32: 0,
  insns: 0,
  insnsMatched: 0,
  alu32Only: 0,
  rejected: [] as string[],
};

/** Encoded bytes of what assembleLlvm makes of the text. */
const reassemble = (text: readonly string[]): Uint8Array => encode(assembleLlvm(text.join('\n')).insns);

describe('llvm-objdump differential: clang fixtures', () => {
  const fixtures = clangFixtures();
  const toolsMissing = missingTool(...TOOLS);
  /** fixture/cpu → object path, or clang's error message. */
  const objects = new Map<string, string | Error>();
  let plain = new Map<string, Map<string, string[]>>();
  let alu32 = new Map<string, Map<string, string[]>>();

  beforeAll(() => {
    if (toolsMissing) return;
    for (const source of fixtures) {
      for (const cpu of CPUS) {
        try {
          objects.set(`${source}/${cpu}`, compileFixture(source, cpu));
        } catch (e) {
          objects.set(`${source}/${cpu}`, e as Error);
        }
      }
    }
    const paths = [...objects.values()].filter((o): o is string => typeof o === 'string');
    plain = objdumpTexts(paths, false);
    alu32 = objdumpTexts(paths, true);
  });

  it('has at least 30 fixtures of our own', () => {
    expect(fixtures.filter((f) => !basename(f).startsWith('elf_')).length).toBeGreaterThanOrEqual(30);
  });

  for (const source of fixtures) {
    for (const cpu of CPUS) {
      it(`${basename(source)} -mcpu=${cpu}`, (ctx) => {
        if (toolsMissing) ctx.skip(toolsMissing);
        const obj = objects.get(`${source}/${cpu}`);
        if (obj instanceof Error || obj === undefined) {
          // v3-only fixtures (e.g. 32-bit atomics other than add): clang 14 refuses them for v1/v2.
          const msg = obj?.message ?? 'not compiled';
          expect(cpu, msg).not.toBe('v3');
          expect(V3_ONLY.has(basename(source)), msg).toBe(true);
          expect(msg).toMatch(/Unsupported atomic operations/);
          tally.rejected.push(`${basename(source)}/${cpu}`);
          return;
        }
        let allMatch = true;
        let allMatch32 = true;
        for (const sec of codeSections(obj)) {
          const ours = disassembleLlvm(sec.insns, { context: sec.context });
          const ours32 = disassembleLlvm(sec.insns, { context: sec.context, alu32: true });
          const theirs = plain.get(obj)?.get(sec.name) ?? [];
          const theirs32 = alu32.get(obj)?.get(sec.name) ?? [];
          if (ours32.some((t, k) => t !== theirs32[k]) || ours32.length !== theirs32.length) allMatch32 = false;
          expect(ours32, `${sec.name} (+alu32)`).toEqual(theirs32);
          expect(ours.length, sec.name).toBe(theirs.length);
          sec.insns.forEach((insn, k) => {
            tally.insns++;
            if (ours[k] === theirs[k]) {
              tally.insnsMatched++;
            } else {
              allMatch = false;
              expect(llvm14NeedsAlu32(insn), `${sec.name} insn ${k}: ${ours[k]} vs ${theirs[k]}`).toBe(true);
              tally.alu32Only++;
            }
          });
          // Round trip: the lossless text always; the objdump-identical text except where LLVM's
          // syntax cannot tell the call kinds apart (`call N`).
          expect(reassemble(disassembleLlvm(sec.insns, { lossless: true, context: sec.context }))).toEqual(sec.bytes);
          const back = assembleLlvm(ours.join('\n')).insns;
          back.forEach((b, k) => {
            const orig = sec.insns[k] as Insn;
            if (orig.spec.op !== 'local') expect(encode([b]), `${sec.name} insn ${k}`).toEqual(encode([orig]));
          });
        }
        tally.objects++;
        if (allMatch) tally.objectsMatched++;
        if (allMatch32) tally.objectsMatched32++;
      });
    }
  }

  afterAll(() => {
    if (tally.objects === 0) return;
    process.stdout.write(
      `\nclang programs matched: ${tally.objectsMatched}/${tally.objects} (instructions ${tally.insnsMatched}/${tally.insns}) ` +
        `against llvm-objdump -d; ${tally.objectsMatched32}/${tally.objects} against llvm-objdump -d --mattr=+alu32 ` +
        `(the ${tally.alu32Only} others are 32-bit atomics LLVM 14 cannot decode without +alu32: <unknown> or a plain add); ` +
        `clang 14 rejected ${tally.rejected.length} fixture/cpu pairs: ${tally.rejected.join(', ') || 'none'}\n`,
    );
  });
});

/**
 * Rows LLVM 14's disassembler knows: no v4, no BPF_ST, no JSET, no MOD, no callx (it read imm), no
 * src≠0 calls or lddw (printed, but ambiguously).
 */
const llvm14Prints = (s: OpSpec): boolean =>
  s.cpu < 4 &&
  s.kind !== 'st' &&
  s.kind !== 'callx' &&
  s.op !== 'jset' &&
  s.op !== 'mod' &&
  s.op !== 'kfunc' &&
  s.op !== 'local' &&
  !(s.kind === 'lddw' && s.op !== 'imm64');

describe('llvm-objdump differential: random instructions through llvm-mc', () => {
  it('prints 800 random instructions exactly as llvm-objdump 14 (default and +alu32)', (ctx) => {
    const why = missingTool('llvm-mc', 'llvm-objdump');
    if (why) ctx.skip(why);
    const insns = fc.sample(arbInsn(llvm14Prints), { numRuns: 800, seed: 20260401 });
    const dir = mkdtempSync(join(tmpdir(), 'llvm-rand-'));
    try {
      const bytes = encode(insns);
      const lines = ['\t.text', '\t.globl f', 'f:'];
      for (let at = 0; at < bytes.length; at += 8) lines.push(`\t.byte ${[...bytes.subarray(at, at + 8)].join(',')}`);
      writeFileSync(join(dir, 'r.s'), `${lines.join('\n')}\n`);
      const mc = spawnSync(findTool('llvm-mc') as string, ['-triple', 'bpfel', '-filetype=obj', 'r.s', '-o', 'r.o'], {
        cwd: dir,
        encoding: 'utf8',
      });
      expect(mc.status, mc.stderr).toBe(0);
      const obj = join(dir, 'r.o');
      const context = { section: '.text', symbols: [{ name: 'f', offset: 0 }] };
      for (const alu32 of [false, true]) {
        const theirs = objdumpTexts([obj], alu32).get(obj)?.get('.text');
        const keep = insns.map((insn) => alu32 || !llvm14NeedsAlu32(insn));
        const ours = disassembleLlvm(insns, { context, alu32 }).filter((_, k) => keep[k]);
        expect(ours).toEqual(theirs?.filter((_, k) => keep[k]));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
