/** Atomic outputs (cli/io.ts): a target is the old file or the whole new one, and no temporary file stays. */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliError } from '../../../kexec-tools-shim/cli/exit.ts';
import { writeFilesAtomic } from '../../../kexec-tools-shim/cli/io.ts';

const dir = mkdtempSync(join(tmpdir(), 'ukibpf-io-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFilesAtomic', () => {
  it('writes every file, replacing what was there', async () => {
    const out = join(dir, 'ok');
    mkdirSync(out);
    writeFileSync(join(out, 'a'), 'old');
    await writeFilesAtomic([
      [join(out, 'a'), new Uint8Array(3 << 20).fill(7)],
      [join(out, 'b'), 'text\n'],
    ]);
    expect(readFileSync(join(out, 'a')).length).toBe(3 << 20);
    expect(readFileSync(join(out, 'b'), 'utf8')).toBe('text\n');
    expect(readdirSync(out).sort()).toEqual(['a', 'b']);
  });

  it('on a failure touches no target and leaves no temporary file', async () => {
    const out = join(dir, 'fail');
    mkdirSync(out);
    writeFileSync(join(out, 'a'), 'old');
    // a target in a directory that does not exist: its temporary file cannot be created
    const err = await writeFilesAtomic([
      [join(out, 'a'), 'new'],
      [join(out, 'missing', 'b'), 'x'],
    ]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).message).toBe(`${join(out, 'missing', 'b')}: cannot write (ENOENT)`);
    expect(readFileSync(join(out, 'a'), 'utf8')).toBe('old');
    expect(readdirSync(out)).toEqual(['a']);
  });
});
