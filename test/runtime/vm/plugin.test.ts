import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assembleUbpf } from '../../../bpf/asm/ubpf/index.ts';
import { encode } from '../../../bpf/isa/index.ts';
import { parseHex, runPlugin } from '../../../runtime/vm/plugin.ts';
import { REPO_ROOT } from '../../support/clang.ts';

/** Base16 exactly as the bpf_conformance runner writes it: "xx  " per byte. */
const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => `${b.toString(16).padStart(2, '0')}  `).join('');
const prog = (text: string): string => `${hex(encode(assembleUbpf(text).insns))}\n`;

describe('bpf_conformance plugin protocol', () => {
  it('runs the program from stdin with R1 = memory from argv and R2 = its length, printing R0 in hex', () => {
    expect(runPlugin([hex(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8))], prog('ldxdw %r0, [%r1]\nexit'))).toEqual({
      stdout: '807060504030201\n',
      stderr: '',
      exitCode: 0,
    });
    expect(runPlugin([hex(new Uint8Array(8))], prog('mov %r0, %r2\nexit')).stdout).toBe('8\n');
    expect(runPlugin([], prog('mov %r0, %r1\nexit')).stdout).toBe('0\n');
    expect(runPlugin([], prog('mov %r0, -1\nexit')).stdout).toBe('ffffffffffffffff\n');
  });

  it('provides helper 5 returning its R1, stopping the program when that is 0 (uBPF unwind)', () => {
    expect(runPlugin([], prog('mov %r1, -1\ncall 5\nexit')).stdout).toBe('ffffffffffffffff\n');
    expect(runPlugin([], prog('mov %r1, 0\ncall 5\nmov %r0, 9\nexit')).stdout).toBe('0\n');
    expect(runPlugin([], prog('mov %r1, 3\ncall 5\nmov %r0, 9\nexit')).stdout).toBe('9\n');
  });

  it('fails with exit code 1 and one line for bad programs, bad hex and bad options', () => {
    const oob = runPlugin([], prog('ldxb %r0, [%r1]\nexit'));
    expect([oob.exitCode, oob.stdout, oob.stderr]).toEqual([
      1,
      '',
      'pc 0 (ldxb %r0, [%r1]): out of bounds read of 1 byte at 0x0 (no region)\n',
    ]);
    expect(runPlugin([], 'ff  00  00  00  00  00  00  00  \n').stderr).toBe('insn 0: unknown opcode ff\n');
    expect(runPlugin([], 'zz\n').exitCode).toBe(1);
    expect(runPlugin(['--elf'], prog('exit')).stderr).toMatch(/not supported/);
    expect(runPlugin(['--bogus'], prog('exit')).stderr).toBe('unexpected argument: --bogus\n');
    expect(runPlugin(['--max-insns', '3'], prog('ja -1')).stderr).toMatch(/instruction budget of 3 exceeded/);
    expect(runPlugin(['--help'], '').exitCode).toBe(0);
    expect(() => parseHex('0', 'x')).toThrow(/not base16/);
  });

  it('works as an executable the runner spawns', () => {
    const p = spawnSync(join(REPO_ROOT, 'bin/bpf-conformance-plugin'), [hex(Uint8Array.of(7, 0))], {
      input: prog('ldxh %r0, [%r1]\nexit'),
      encoding: 'utf8',
    });
    expect([p.status, p.stdout, p.stderr]).toEqual([0, '7\n', '']);
  });
});
