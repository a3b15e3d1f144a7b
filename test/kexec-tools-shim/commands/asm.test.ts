import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readObject } from '../../../bpf/elf/index.ts';
import { type CliError, ExitCode } from '../../../kexec-tools-shim/cli/exit.ts';
import { detectSyntax, register } from '../../../kexec-tools-shim/commands/asm.ts';
import { cliFailure, commandRunner } from '../../support/cli.ts';

let dir: string;
const path = (name: string): string => join(dir, name);

const run = commandRunner(register, 'asm');

const failure = (...args: string[]): Promise<CliError> => cliFailure(() => run(...args));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ukibpf-asm-'));
  writeFileSync(path('p.s'), 'mov %r0, 1\njne %r0, 2, exit\nmov %r0, 3\nexit\n');
  writeFileSync(path('bad.s'), 'mov %r0, %r99\nfoo\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ukibpf asm', () => {
  it('writes raw instruction bytes with --raw', async () => {
    expect(await run(path('p.s'), '--raw', path('p.bin'))).toBe('');
    expect(readFileSync(path('p.bin')).toString('hex')).toBe(
      'b700000001000000' + '5500010002000000' + 'b700000003000000' + '9500000000000000',
    );
  });

  it('prints a listing by default and a summary with --json', async () => {
    expect((await run(path('p.s'))).split('\n')[1]).toBe(
      '    1: 55 00 01 00 02 00 00 00                          jne %r0, 2, +1',
    );
    const summary = JSON.parse(await run(path('p.s'), '--json'));
    expect(summary).toMatchObject({ syntax: 'ubpf', instructions: 4, slots: 4, labels: { exit: 3 } });
  });

  it('reports every diagnostic as file:line:col, exit code BAD_INPUT', async () => {
    const e = await failure(path('bad.s'), '--raw', path('bad.bin'));
    expect(e.exitCode).toBe(ExitCode.BAD_INPUT);
    expect(e.message).toBe(
      `${path('bad.s')}:1:10: Invalid register: %r99\n${path('bad.s')}:2:1: Invalid mnemonic: foo`,
    );
  });

  it('writes an ELF object with -o: one program in the given section, line_info on the source', async () => {
    writeFileSync(path('m.s'), 'r1 = counters ll\nr0 = 0\nexit\n');
    expect(await run(path('m.s'), '-o', path('m.o'), '--section', 'xdp', '--name', 'prog')).toBe('');
    const obj = readObject(readFileSync(path('m.o')));
    expect(obj.license).toBe('GPL');
    const [prog] = obj.programs;
    expect(prog).toMatchObject({ name: 'prog', section: 'xdp' });
    expect(prog?.insns.map((i) => i.spec.name)).toEqual(['lddw', 'mov', 'exit']);
    expect(prog?.relocations.map((r) => [r.insn, r.symbol.name])).toEqual([[0, 'counters']]);
    expect(prog?.lines.map((l) => [l.insn, l.line, l.text])).toEqual([
      [0, 1, 'r1 = counters ll'],
      [1, 2, 'r0 = 0'],
      [2, 3, 'exit'],
    ]);
  });

  it('refuses an unknown --syntax', async () => {
    expect((await failure(path('p.s'), '--syntax', 'intel')).exitCode).toBe(ExitCode.USAGE);
  });

  it('detects the syntax by %r registers', () => {
    expect(detectSyntax('mov %r0, 1')).toBe('ubpf');
    expect(detectSyntax('r0 = 1\nexit')).toBe('llvm');
  });
});
