import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleUbpf } from '../../../bpf/asm/ubpf/index.ts';
import { encode } from '../../../bpf/isa/index.ts';
import { type CliError, ExitCode } from '../../../kexec-tools-shim/cli/exit.ts';
import { register } from '../../../kexec-tools-shim/commands/run.ts';
import { missingTool } from '../../support/env.ts';
import { cliFailure, commandRunner } from '../../support/cli.ts';

let dir: string;
const path = (name: string): string => join(dir, name);

const run = commandRunner(register, 'run');

const failure = (...args: string[]): Promise<CliError> => cliFailure(() => run(...args));

const SUM =
  'mov %r0, 0\nmov %r3, 0\nloop:\nldxb %r4, [%r1]\nadd %r0, %r4\nadd %r1, 1\nadd %r3, 1\njlt %r3, %r2, loop\nexit\n';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ukibpf-run-'));
  writeFileSync(path('sum.s'), SUM);
  writeFileSync(path('sum.bin'), encode(assembleUbpf(SUM).insns));
  writeFileSync(path('mem.bin'), Uint8Array.of(1, 2, 3));
  writeFileSync(path('llvm.s'), 'r0 = 7\nexit\n');
  writeFileSync(path('bad.bin'), Uint8Array.of(0xff, 0, 0, 0, 0, 0, 0, 0));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ukibpf run', () => {
  it('runs assembly (both syntaxes) and raw instructions with input memory, printing R0', async () => {
    expect(await run(path('sum.s'), '--mem-hex', '01 02 03 0a')).toBe('0x10\n');
    expect(await run(path('sum.bin'), '--mem', path('mem.bin'))).toBe('0x6\n');
    expect(await run(path('llvm.s'))).toBe('0x7\n');
  });

  it('traces each executed instruction with the registers it changed, and reports JSON', async () => {
    const lines = (await run(path('sum.s'), '--mem-hex', '05', '--trace')).trim().split('\n');
    expect(lines).toHaveLength(8 + 1);
    expect(lines[2]).toMatch(/^\s+2: ldxb %r4, \[%r1\]\s+r4=0x5$/);
    expect(lines[8]).toBe('0x5');
    const json = JSON.parse(await run(path('sum.s'), '--mem-hex', '05', '--json', '--trace'));
    expect([json.r0, json.insns, json.trace.length, json.trace[2].changes]).toEqual(['0x5', 8, 8, [[4, '0x5']]]);
  });

  it('fails with exit code 1 naming pc, instruction, address and region', async () => {
    const e = await failure(path('sum.s'));
    expect(e.exitCode).toBe(ExitCode.REJECTED);
    expect(e.message).toMatch(/pc 2 \(ldxb %r4, \[%r1\]\): out of bounds read of 1 byte at 0x0 \(no region\)$/);
    const budget = await failure(path('sum.s'), '--mem-hex', '01 02 03', '--max-insns', '5');
    expect(budget.message).toMatch(/instruction budget of 5 exceeded/);
  });

  it('rejects bad input and usage with the right exit codes', async () => {
    expect((await failure(path('bad.bin'))).exitCode).toBe(ExitCode.BAD_INPUT);
    expect((await failure(path('missing.s'))).exitCode).toBe(ExitCode.BAD_INPUT);
    expect((await failure(path('mem.bin.txt'))).exitCode).toBe(ExitCode.USAGE);
    expect((await failure(path('sum.s'), '--mem-hex', 'xyz')).exitCode).toBe(ExitCode.USAGE);
    expect((await failure(path('sum.s'), '--max-insns', '0')).exitCode).toBe(ExitCode.USAGE);
  });

  it('runs the function of a clang-built object', (ctx) => {
    const why = missingTool('clang');
    if (why) ctx.skip(why);
    writeFileSync(path('f.c'), 'int triple(int *p) { return p[0] * 3; }\n');
    const cc = spawnSync('clang', ['-O2', '-target', 'bpf', '-c', path('f.c'), '-o', path('f.o')], {
      encoding: 'utf8',
    });
    expect(cc.stderr).toBe('');
    return run(path('f.o'), '--mem-hex', '05 00 00 00').then((out) => expect(out).toBe('0xf\n'));
  });
});
