/**
 * `ukibpf objdump` (kexec-tools-shim/commands/objdump.ts), run in-process: the summary of a written
 * object and of a clang object, --json, -d, and exit codes for unreadable / malformed files.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeObject } from '../../../bpf/elf/index.ts';
import { type CliError, ExitCode } from '../../../kexec-tools-shim/cli/exit.ts';
import { register } from '../../../kexec-tools-shim/commands/objdump.ts';
import { sampleSpec } from '../../bpf/elf/sample.ts';
import { CLANG_FIXTURES, compileFixture } from '../../support/clang.ts';
import { cliFailure, commandRunner } from '../../support/cli.ts';
import { missingTool } from '../../support/env.ts';

let dir: string;
const path = (name: string): string => join(dir, name);

const run = commandRunner(register, 'objdump');

const failure = (...args: string[]): Promise<CliError> => cliFailure(() => run(...args));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ukibpf-objdump-'));
  const bytes = writeObject(sampleSpec());
  writeFileSync(path('sample.o'), bytes);
  writeFileSync(path('trunc.o'), bytes.slice(0, 100));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ukibpf objdump', () => {
  it('--json: sections, programs, maps, relocations, license, BTF', async () => {
    const s = JSON.parse(await run(path('sample.o'), '--json'));
    expect(s).toMatchObject({ order: 'le', license: 'GPL', version: null });
    expect(s.sections.map((x: { name: string }) => x.name)).toEqual([
      '.text',
      '.rel.text',
      'xdp',
      '.relxdp',
      '.rodata',
      '.maps',
      'license',
      '.BTF',
      '.BTF.ext',
      '.symtab',
      '.strtab',
    ]);
    expect(s.programs).toEqual([
      {
        name: 'xdp_count',
        section: 'xdp',
        progType: 'BPF_PROG_TYPE_XDP',
        global: true,
        offset: 0,
        size: 184,
        instructions: 21,
        slots: 23,
        lines: 4,
        coreRelos: 0,
      },
    ]);
    expect(s.subprograms.map((f: { name: string }) => f.name)).toEqual(['answer']);
    expect(s.maps).toEqual([
      { name: 'counts', type: 'array', typeId: 2, keySize: 4, valueSize: 8, maxEntries: 4, flags: 0 },
      { name: 'events', type: 'ringbuf', typeId: 27, keySize: 0, valueSize: 0, maxEntries: 4096, flags: 0 },
      { name: 'seen', type: 'hash', typeId: 1, keySize: 8, valueSize: 4, maxEntries: 64, flags: 1 },
    ]);
    expect(s.relocations).toContainEqual({
      section: 'xdp',
      offset: 0x80,
      function: 'xdp_count',
      insn: 14,
      type: 'R_BPF_64_32',
      symbol: 'answer',
      symbolKind: 'symbol',
    });
    expect(s.btf).toMatchObject({ funcInfo: 2, lineInfo: 5, coreRelos: 0 });
    expect(s.btf.kinds.DATASEC).toBe(2);
  });

  it('text output and -d disassembly', async () => {
    const out = await run(path('sample.o'), '-d');
    expect(out).toContain('license: "GPL"');
    expect(out).toMatch(/xdp_count\s+xdp\s+BPF_PROG_TYPE_XDP\s+21/);
    expect(out).toMatch(/events\s+ringbuf\s+0\s+0\s+4096/);
    expect(out).toMatch(/xdp\s+0x80\s+xdp_count\+14\s+R_BPF_64_32\s+answer/);
    expect(out).toContain('Disassembly of xdp_count (section xdp):');
    // Slot numbers count lddw twice, as llvm-objdump's do.
    expect(out).toMatch(/ {5}5:\t85 00 00 00 01 00 00 00\tcall 1\n/);
    expect(out).toMatch(/if r0 == 0 goto \+2 <xdp_count\+0x48>/);
  });

  it('a clang object: all programs, version, relocations against section symbols', async (ctx) => {
    const why = missingTool('clang');
    if (why) ctx.skip(why);
    const file = compileFixture(join(CLANG_FIXTURES, 'elf_globals.c'), 'v3');
    const s = JSON.parse(await run(file, '--json'));
    expect(s.version).toBe(0x050a00);
    expect(s.programs[0]).toMatchObject({ name: 'globals_prog', progType: 'BPF_PROG_TYPE_SOCKET_FILTER' });
    expect(
      s.relocations.filter(
        (r: { symbolKind: string; section: string }) => r.section === 'socket' && r.symbolKind === 'section',
      ).length,
    ).toBe(2);
  });

  it('exit codes: unreadable file and malformed object are BAD_INPUT with the offset', async () => {
    expect(await failure(path('missing.o'))).toMatchObject({ exitCode: ExitCode.BAD_INPUT });
    const e = await failure(path('trunc.o'));
    expect(e.exitCode).toBe(ExitCode.BAD_INPUT);
    expect(e.message).toMatch(/TRUNCATED at offset 0x28/);
  });
});
