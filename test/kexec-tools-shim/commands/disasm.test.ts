import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSlots } from '../../../bpf/isa/index.ts';
import { CliError, ExitCode } from '../../../kexec-tools-shim/cli/exit.ts';
import { register } from '../../../kexec-tools-shim/commands/disasm.ts';
import { clangFixtures, compileFixture } from '../../support/clang.ts';
import { missingTool } from '../../support/env.ts';
import { commandRunner } from '../../support/cli.ts';

let dir: string;
const path = (name: string): string => join(dir, name);

const run = commandRunner(register, 'disasm');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ukibpf-disasm-'));
  const slot = (code: number, dst: number, src: number, off: number, imm: number) => ({ code, dst, src, off, imm });
  writeFileSync(path('p.bin'), encodeSlots([slot(0xb7, 0, 0, 0, 7), slot(0x15, 0, 0, 1, 0), slot(0x95, 0, 0, 0, 0)]));
  writeFileSync(path('bad.bin'), encodeSlots([slot(0xb7, 0, 0, 0, 7), slot(0x8f, 0, 0, 0, 0)]));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ukibpf disasm', () => {
  it('prints raw bytes in the three syntaxes', async () => {
    expect(await run(path('p.bin'), '--syntax', 'ubpf')).toContain('jeq %r0, 0, +1');
    expect(await run(path('p.bin'), '--syntax', 'log')).toContain(
      '1:\t15 00 01 00 00 00 00 00\t(15) if r0 == 0x0 goto pc+1',
    );
    const json = JSON.parse(await run(path('p.bin'), '--json'));
    expect(json[0].insns.map((i: { text: string }) => i.text)).toEqual(['r0 = 7', 'if r0 == 0 goto +1', 'exit']);
  });

  it('names the byte offset of a bad instruction', async () => {
    const err = await run(path('bad.bin')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(ExitCode.BAD_INPUT);
    expect((err as CliError).message).toContain('insn 1: unknown opcode 8f at byte offset 8');
  });

  it('prints every clang fixture object exactly as llvm-objdump -dr does', async (ctx) => {
    const why = missingTool('clang', 'llvm-objdump');
    if (why) ctx.skip(why);
    const mismatched: string[] = [];
    const fixtures = clangFixtures();
    for (const source of fixtures) {
      const object = compileFixture(source, 'v3');
      const theirs = spawnSync('llvm-objdump', ['-dr', '--mattr=+alu32', object], { encoding: 'utf8' });
      // Drop llvm-objdump's "file format" preamble: a blank line, the header line, a blank line.
      const expected = theirs.stdout.split('\n').slice(3).join('\n');
      const ours = await run(object, '--alu32');
      if (ours !== expected) mismatched.push(basename(source));
    }
    console.log(`ukibpf disasm = llvm-objdump -dr: ${fixtures.length - mismatched.length}/${fixtures.length} objects`);
    expect(mismatched).toEqual([]);
  });
});
