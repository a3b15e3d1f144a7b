import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPe, sectionData } from '../../../formats/pe/index.ts';
import { type CliError, ExitCode } from '../../../kexec-tools-shim/cli/exit.ts';
import { register as inject } from '../../../kexec-tools-shim/commands/inject.ts';
import { register as inspect } from '../../../kexec-tools-shim/commands/inspect.ts';
import { register as sign } from '../../../kexec-tools-shim/commands/sign.ts';
import { register as verifySig } from '../../../kexec-tools-shim/commands/verify-sig.ts';
import { clangFixtures, compileFixture } from '../../support/clang.ts';
import { missingTool } from '../../support/env.ts';
import { missingFixture, readFixture, type TestKeys, testKeys } from '../../support/fixtures.ts';
import { type CliRun, cliFailure, runCli } from '../../support/cli.ts';

let dir: string;
let keys: TestKeys;
let object: string;
const path = (name: string): string => join(dir, name);
const digest = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

const run = (...args: string[]): Promise<CliRun> => runCli([inject, sign, verifySig, inspect], args);
const failure = (...args: string[]): Promise<CliError> => cliFailure(() => run(...args));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ukibpf-image-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const needs = (ctx: { skip: (why: string) => void }): void => {
  const why = missingFixture('stub') ?? missingTool('clang', 'openssl');
  if (why) ctx.skip(why);
  keys = testKeys();
  object = compileFixture(clangFixtures()[0]!, 'v3');
  writeFileSync(path('stub.efi'), readFixture('stub'));
};

describe('ukibpf inject / sign / verify-sig / inspect', () => {
  it('injects .bpf, signs, verifies (kernel and EDK2 rules) and inspects, never touching the inputs', async (ctx) => {
    needs(ctx);
    const before = [digest(path('stub.efi')), digest(object)];
    const injected = JSON.parse(
      (await run('inject', '--bpf', object, path('stub.efi'), '-o', path('uki.efi'), '--json')).out,
    );
    expect(injected).toMatchObject({
      action: 'added',
      section: { name: '.bpf', virtualSize: readFileSync(object).length },
    });
    const img = readPe(readFileSync(path('uki.efi')));
    expect(Buffer.compare(sectionData(img, img.sections.at(-1)!), readFileSync(object))).toBe(0);

    expect(
      (await run('sign', '--key', keys.rsa.key, '--cert', keys.rsa.cert, path('uki.efi'), '-o', path('signed.efi')))
        .out,
    ).toMatch(/signed by \/CN=ukibpf test RSA/);
    expect(await run('verify-sig', '--cert', keys.rsa.cert, path('signed.efi'))).toMatchObject({
      exitCode: ExitCode.OK,
    });
    const rejected = await run('verify-sig', '--cert', keys.stranger.cert, path('signed.efi'), '--json');
    expect(rejected.exitCode).toBe(ExitCode.REJECTED);
    expect(JSON.parse(rejected.out)).toMatchObject({
      ok: false,
      mode: 'kernel',
      signatures: [{ failure: { code: 'UNTRUSTED' } }],
    });

    // A second signature: the kernel looks at the first only, --any (EDK2) at all of them.
    await run(
      'sign',
      '--key',
      keys.ec.key,
      '--cert',
      keys.ec.cert,
      '--append',
      path('signed.efi'),
      '-o',
      path('both.efi'),
    );
    expect((await run('verify-sig', '--cert', keys.ec.cert, path('both.efi'))).exitCode).toBe(ExitCode.REJECTED);
    expect((await run('verify-sig', '--cert', keys.ec.cert, '--any', path('both.efi'))).exitCode).toBe(ExitCode.OK);
    expect(
      (await run('verify-sig', '--cert', keys.stranger.cert, '--cert', keys.rsa.cert, path('both.efi'))).exitCode,
    ).toBe(ExitCode.OK);

    const shown = JSON.parse((await run('inspect', path('both.efi'), '--json')).out);
    expect(shown.sections.map((s: { name: string }) => s.name)).toEqual(img.sections.map((s) => s.name));
    expect(shown.sections.at(-1)).toMatchObject({ name: '.bpf', virtualAddress: injected.section.virtualAddress });
    expect(shown.signatures.map((s: { signer: { subject: string } }) => s.signer.subject)).toEqual([
      '/CN=ukibpf test RSA/O=ukibpf',
      '/CN=ukibpf test EC',
    ]);
    expect((await run('inspect', path('both.efi'))).out).toMatch(/signature 1 at 0x[0-9a-f]+: sha256 consistent/);
    expect([digest(path('stub.efi')), digest(object)]).toEqual(before);
  });

  it('refuses a signed image without --strip-signature, non-BPF objects, and writing over an input', async (ctx) => {
    needs(ctx);
    await run('sign', '--key', keys.ec.key, '--cert', keys.ec.cert, path('stub.efi'), '-o', path('s.efi'));
    const signed = await failure('inject', '--bpf', object, path('s.efi'), '-o', path('x.efi'));
    expect(signed.exitCode).toBe(ExitCode.BAD_INPUT);
    expect(signed.message).toMatch(/--strip-signature/);
    expect(
      (await run('inject', '--bpf', object, path('s.efi'), '-o', path('x.efi'), '--strip-signature')).exitCode,
    ).toBe(0);
    expect(readPe(readFileSync(path('x.efi'))).certificateTable).toBeUndefined();
    expect((await failure('inject', '--bpf', path('stub.efi'), path('stub.efi'), '-o', path('y.efi'))).exitCode).toBe(
      ExitCode.BAD_INPUT,
    );
    expect((await failure('inject', '--bpf', object, path('stub.efi'), '-o', path('stub.efi'))).exitCode).toBe(
      ExitCode.USAGE,
    );
    expect(
      (await failure('sign', '--key', keys.rsa.key, '--cert', keys.ec.cert, path('stub.efi'), '-o', path('z.efi')))
        .message,
    ).toMatch(/does not belong/);
    expect((await failure('inspect', object)).exitCode).toBe(ExitCode.BAD_INPUT);
  });
});
