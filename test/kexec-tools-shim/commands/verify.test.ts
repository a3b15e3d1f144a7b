import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../../kexec-tools-shim/cli/exit.ts';
import { register as registerAsm } from '../../../kexec-tools-shim/commands/asm.ts';
import { register } from '../../../kexec-tools-shim/commands/verify.ts';
import { CLANG_FIXTURES, compileFixture } from '../../support/clang.ts';
import { cliFailure, runCli } from '../../support/cli.ts';
import { missingBpf, missingTool } from '../../support/env.ts';

const verify = (...args: string[]) => runCli([register], ['verify', ...args]);
const fixture = (name: string): string => compileFixture(`${CLANG_FIXTURES}/${name}.c`, 'v3');

describe('ukibpf verify', () => {
  it('accepts every program of an object (exit 0) and prints the kernel-format log', async (ctx) => {
    const why = missingTool('clang');
    if (why) ctx.skip(why);
    const r = await verify(fixture('multi_prog'), '--prog', 'xdp_side');
    expect(r.exitCode).toBe(ExitCode.OK);
    expect(r.out).toMatch(/^xdp\/xdp_side: accepted \(\d+ insns processed\)\n$/);
    const log = await verify(fixture('multi_prog'), '--prog', 'xdp_side', '--log-level', '2');
    expect(log.out).toContain('0: R1=ctx() R10=fp0\n');
    expect(log.out).toMatch(/processed \d+ insns \(limit 1000000\) max_states_per_insn/);
  });

  it('exits 1 on a rejection and names the instruction and message; --json for machines', async () => {
    // a packet pointer kept across bpf_xdp_adjust_head, which invalidates it
    const dir = mkdtempSync(join(tmpdir(), 'ukibpf-verify-'));
    try {
      const src = join(dir, 'stale.s');
      const obj = join(dir, 'stale.o');
      writeFileSync(
        src,
        [
          'r6 = r1',
          'r7 = *(u32 *)(r1 + 0)',
          'r8 = *(u32 *)(r1 + 4)',
          'r4 = r7',
          'r4 += 14',
          'if r4 > r8 goto +5',
          'r1 = r6',
          'r2 = 14',
          'call 44',
          'r0 = *(u8 *)(r7 + 0)',
          'exit',
          'r0 = 2',
          'exit',
          '',
        ].join('\n'),
      );
      await runCli([registerAsm], ['asm', src, '-o', obj, '--section', 'xdp']);
      const r = await verify(obj);
      expect(r.exitCode).toBe(ExitCode.REJECTED);
      expect(r.out).toContain("rejected: insn 9: R7 invalid mem access 'scalar'");
      const j = JSON.parse((await verify(obj, '--json')).out) as { accepted: boolean; error: { insn: number } }[];
      expect(j[0]?.accepted).toBe(false);
      expect(j[0]?.error.insn).toBe(9);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses unmodelled program types, unknown programs and bad input with usage / input errors', async (ctx) => {
    const why = missingTool('clang');
    if (why) ctx.skip(why);
    expect((await cliFailure(() => verify(fixture('ringbuf_event')))).exitCode).toBe(ExitCode.USAGE);
    expect((await cliFailure(() => verify(fixture('multi_prog'), '--prog', 'nope'))).message).toContain(
      "no program 'nope'",
    );
    expect((await cliFailure(() => verify(fixture('multi_prog'), '--log-level', '3'))).exitCode).toBe(ExitCode.USAGE);
    expect((await cliFailure(() => verify(`${CLANG_FIXTURES}/xdp_pass.c`))).exitCode).toBe(ExitCode.BAD_INPUT);
  });

  it('--kernel shows the running kernel verdict next to ours', async (ctx) => {
    const why = missingTool('clang') ?? missingBpf();
    if (why) ctx.skip(why);
    const r = await verify(fixture('xdp_pass'), '--kernel');
    expect(r.out).toMatch(/xdp\/xdp_count: accepted .*\nxdp\/xdp_count: kernel accepted\n/);
  });
});
