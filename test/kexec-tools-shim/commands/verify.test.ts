import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../../kexec-tools-shim/cli/exit.ts';
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

  it('exits 1 on a rejection and names the instruction and message; --json for machines', async (ctx) => {
    const why = missingTool('clang');
    if (why) ctx.skip(why);
    const r = await verify(fixture('xdp_adjust'));
    expect(r.exitCode).toBe(ExitCode.REJECTED);
    expect(r.out).toContain('rejected: insn 14: program of this type cannot use helper bpf_xdp_adjust_head#44');
    const j = JSON.parse((await verify(fixture('xdp_adjust'), '--json')).out) as {
      accepted: boolean;
      error: { insn: number };
    }[];
    expect(j[0]?.accepted).toBe(false);
    expect(j[0]?.error.insn).toBe(14);
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
