import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadCertificates, verifyImage } from '../../../formats/authenticode/index.ts';
import { readPe, sectionData } from '../../../formats/pe/index.ts';
import { readAddon, readUki, stubHandoff, viewData } from '../../../formats/uki/index.ts';
import { CliError, ExitCode } from '../../../kexec-tools-shim/cli/exit.ts';
import { register as build } from '../../../kexec-tools-shim/commands/build.ts';
import { register as buildAddon } from '../../../kexec-tools-shim/commands/build-addon.ts';
import { buildPe } from '../../formats/pe-build.ts';
import { clangFixtures, compileFixture } from '../../support/clang.ts';
import { findTool, missingTool } from '../../support/env.ts';
import { fixturePath, missingFixture, type TestKeys, testKeys } from '../../support/fixtures.ts';

let dir: string;
const path = (name: string): string => join(dir, name);
const digest = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const names = (file: string): string[] => readPe(readFileSync(file)).sections.map((s) => s.name);

/** Runs `ukibpf ...` in-process; returns what it printed and the exit code it set. */
const run = async (...args: string[]): Promise<{ out: string; exitCode: number }> => {
  const program = new Command('ukibpf').exitOverride();
  for (const register of [build, buildAddon]) register(program);
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  process.exitCode = undefined;
  try {
    await program.parseAsync(['node', 'ukibpf', ...args]);
    return { out, exitCode: Number(process.exitCode ?? 0) };
  } finally {
    process.exitCode = undefined;
    spy.mockRestore();
  }
};

const failure = async (...args: string[]): Promise<CliError> => {
  try {
    await run(...args);
  } catch (e) {
    if (e instanceof CliError) return e;
    throw e;
  }
  throw new Error('command succeeded');
};

/** A small stub-shaped PE (code, .sbat with room, .sdmagic) for tests that do not need the Debian one. */
const craftedStub = (): Uint8Array =>
  buildPe({
    sections: [
      { name: '.text', data: new Uint8Array(0x40).fill(0xc3), characteristics: 0x60000020 },
      { name: '.sbat', data: new TextEncoder().encode('sbat,1,SBAT Version,sbat,1,x\n'), virtualSize: 0x200 },
      { name: '.sdmagic', data: new TextEncoder().encode('#### LoaderInfo: systemd-stub ####') },
    ],
  }).bytes;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ukibpf-build-cli-'));
  writeFileSync(path('stub.efi'), craftedStub());
  writeFileSync(path('kernel'), new Uint8Array(0x300).fill(0x90));
  writeFileSync(path('initrd1'), 'ABCDE');
  writeFileSync(path('initrd2'), 'FG');
  writeFileSync(path('cmdline'), 'console=ttyS0 quiet\n');
  writeFileSync(path('blob'), 'BLOB');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ukibpf build on a crafted stub', () => {
  it('builds a UKI with the given parts and prints the section table as JSON', async () => {
    const before = digest(path('stub.efi'));
    const r = await run(
      'build',
      '--stub',
      path('stub.efi'),
      '--linux',
      path('kernel'),
      '--initrd',
      path('initrd1'),
      '--initrd',
      path('initrd2'),
      '--cmdline',
      `@${path('cmdline')}`,
      '--os-release',
      'ID=test',
      '--uname',
      '6.1.0-test',
      '--section',
      `.extra:${path('blob')}`,
      '-o',
      path('uki.efi'),
      '--json',
    );
    expect(r.exitCode).toBe(ExitCode.OK);
    const summary = JSON.parse(r.out);
    expect(summary.sections.map((s: { name: string }) => s.name)).toEqual([
      '.text',
      '.sbat',
      '.sdmagic',
      '.osrel',
      '.cmdline',
      '.uname',
      '.initrd',
      '.extra',
      '.linux',
    ]);
    expect(summary).toMatchObject({ kind: 'uki', signedBy: null, profiles: [] });
    expect(digest(path('stub.efi'))).toBe(before);
    const h = stubHandoff({ uki: readFileSync(path('uki.efi')) });
    expect(h.cmdline).toBe('console=ttyS0 quiet');
    expect(h.kernel).toEqual(new Uint8Array(0x300).fill(0x90));
    expect(new TextDecoder().decode(h.initrdPieces[0]!.data)).toBe('ABCDE\0\0\0FG\0\0');
  });

  it('builds profile PEs and joins them', async () => {
    await run(
      'build',
      '--stub',
      path('stub.efi'),
      '--profile',
      'ID=rescue',
      '--cmdline',
      'rescue',
      '-o',
      path('p1.efi'),
    );
    expect(names(path('p1.efi')).slice(-2)).toEqual(['.profile', '.cmdline']);
    const r = await run(
      'build',
      '--stub',
      path('stub.efi'),
      '--linux',
      path('kernel'),
      '--cmdline',
      'normal',
      '--profile',
      'ID=main',
      '--join-profile',
      path('p1.efi'),
      '-o',
      path('multi.efi'),
      '--json',
    );
    expect(JSON.parse(r.out).profiles).toEqual([['.profile'], ['.profile', '.cmdline']]);
    expect(stubHandoff({ uki: readFileSync(path('multi.efi')), loadOptions: '@1' }).cmdline).toBe('rescue');
  });

  it('stores a BPF object in .bpf, and refuses a file that is not one', async (ctx) => {
    const why = missingTool('clang');
    if (why) ctx.skip(why);
    const object = compileFixture(clangFixtures()[0]!, 'v3');
    await run('build', '--stub', path('stub.efi'), '--linux', path('kernel'), '--bpf', object, '-o', path('bpf.efi'));
    expect(names(path('bpf.efi')).slice(-2)).toEqual(['.bpf', '.linux']);
    const img = readPe(readFileSync(path('bpf.efi')));
    const bpf = img.sections.find((s) => s.name === '.bpf')!;
    const stored = img.bytes.subarray(bpf.pointerToRawData, bpf.pointerToRawData + bpf.virtualSize);
    expect(Buffer.compare(stored, readFileSync(object))).toBe(0);
    const bad = await failure(
      'build',
      '--stub',
      path('stub.efi'),
      '--linux',
      path('kernel'),
      '--bpf',
      path('blob'),
      '-o',
      path('x.efi'),
    );
    expect([bad.exitCode, bad.message]).toEqual([ExitCode.BAD_INPUT, expect.stringMatching(/not a BPF ELF object/)]);
  });

  it.each<[string, string[], number, RegExp]>([
    ['no kernel and no profile', ['--cmdline', 'x'], ExitCode.USAGE, /--linux is required/],
    ['a key without a certificate', ['--linux', 'K', '--sign-key', 'K'], ExitCode.USAGE, /go together/],
    ['a malformed --section', ['--linux', 'K', '--section', 'nocolon'], ExitCode.USAGE, /NAME:FILE/],
    ['a section name over 8 bytes', ['--linux', 'K', '--section', '.toolongname:K'], ExitCode.USAGE, /8 bytes/],
    ['a missing file', ['--linux', 'missing'], ExitCode.BAD_INPUT, /cannot read/],
    ['a stub that is not a PE', ['--linux', 'K', '--stub-is-kernel'], ExitCode.BAD_INPUT, /UKI: stub/],
    ['writing over an input', ['--linux', 'K', '--out-is-stub'], ExitCode.USAGE, /must not be one of the inputs/],
  ])('refuses %s', async (_, args, exitCode, message) => {
    const stub = args.includes('--stub-is-kernel') ? path('kernel') : path('stub.efi');
    const out = args.includes('--out-is-stub') ? path('stub.efi') : path('never.efi');
    const rest = args
      .filter((a) => !a.startsWith('--stub-is') && !a.startsWith('--out-is'))
      .map((a) => (a === 'K' ? path('kernel') : a === 'missing' ? path('missing') : a));
    const e = await failure('build', '--stub', stub, ...rest, '-o', out);
    expect([e.exitCode, e.message]).toEqual([exitCode, expect.stringMatching(message)]);
  });
});

describe('ukibpf build-addon', () => {
  it('builds an addon the stub takes, with the addon SBAT', async () => {
    const r = await run(
      'build-addon',
      '--stub',
      path('stub.efi'),
      '--cmdline',
      'debug',
      '--initrd',
      path('initrd1'),
      '--uname',
      '6.1.0-test',
      '-o',
      path('a.addon.efi'),
      '--json',
    );
    expect(JSON.parse(r.out).sections.map((s: { name: string }) => s.name)).toEqual([
      '.text',
      '.sbat',
      '.sdmagic',
      '.cmdline',
      '.uname',
      '.initrd',
    ]);
    const addon = readAddon(readFileSync(path('a.addon.efi')));
    expect(new TextDecoder().decode(viewData(addon.pe, addon.view, '.sbat'))).toMatch(
      /^sbat,1,.*\nuki-addon,1,UKI Addon,/,
    );
    const h = stubHandoff({
      uki: readFileSync(path('uki.efi')),
      extraDir: [{ name: 'a.addon.efi', data: readFileSync(path('a.addon.efi')) }],
    });
    expect(h.cmdline).toBe('console=ttyS0 quiet debug');
    expect(h.initrdPieces.at(-1)).toMatchObject({ kind: 'initrd-addon', source: 'a.addon.efi' });
  });

  it('refuses an addon with nothing for the stub to use', async () => {
    const e = await failure('build-addon', '--stub', path('stub.efi'), '--uname', '6.1', '-o', path('e.addon.efi'));
    expect(e.exitCode).toBe(ExitCode.USAGE);
  });
});

describe('with the Debian systemd-stub and kernel', () => {
  let keys: TestKeys;
  const needs = (ctx: { skip: (why: string) => void }, ...tools: string[]): void => {
    const why = missingFixture('stub', 'kernel') ?? missingTool(...tools);
    if (why) ctx.skip(why);
  };

  it('lists the same sections, in the same order, as objcopy per the systemd 252 recipe', async (ctx) => {
    needs(ctx, 'objcopy');
    writeFileSync(path('os-release'), 'ID=debian\nVERSION_ID=12\n');
    // --sbat with only the header line: the merged .sbat is the stub's own text and stays in place, as the
    // 252 recipe (which has no SBAT step) leaves it.
    await run(
      'build',
      '--stub',
      fixturePath('stub'),
      '--linux',
      fixturePath('kernel'),
      '--initrd',
      path('initrd1'),
      '--cmdline',
      'console=ttyS0',
      '--os-release',
      `@${path('os-release')}`,
      '--sbat',
      'sbat,1,SBAT Version,sbat,1,x',
      '-o',
      path('debian.efi'),
    );
    const ours = readUki(readFileSync(path('debian.efi')));
    const unameSection = ours.pe.sections.find((s) => s.name === '.uname')!;
    const uname = new TextDecoder().decode(sectionData(ours.pe, unameSection));
    writeFileSync(path('cmdline.txt'), 'console=ttyS0');
    writeFileSync(path('uname'), uname);
    const r = spawnSync(
      findTool('objcopy')!,
      [
        '--add-section',
        `.osrel=${path('os-release')}`,
        '--change-section-vma',
        '.osrel=0x20000',
        '--add-section',
        `.cmdline=${path('cmdline.txt')}`,
        '--change-section-vma',
        '.cmdline=0x30000',
        '--add-section',
        `.uname=${path('uname')}`,
        '--change-section-vma',
        '.uname=0x40000',
        '--add-section',
        `.initrd=${path('initrd1')}`,
        '--change-section-vma',
        '.initrd=0x50000',
        '--add-section',
        `.linux=${fixturePath('kernel')}`,
        '--change-section-vma',
        '.linux=0x2000000',
        fixturePath('stub'),
        path('objcopy.efi'),
      ],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(names(path('debian.efi'))).toEqual(names(path('objcopy.efi')));
    expect(uname).toMatch(/^6\.\d+\.\d+-\d+-cloud-amd64$/);
    const h = stubHandoff({ uki: ours, loadOptions: 'root=/dev/vda' });
    // Compared without toEqual: a failing diff of two 14 MB arrays would exhaust the heap.
    expect(Buffer.compare(h.kernel, readFileSync(fixturePath('kernel')))).toBe(0);
    expect(h.cmdline).toBe('root=/dev/vda');
  });

  it('signs with --sign-key/--sign-cert so that sbverify --cert accepts it', async (ctx) => {
    needs(ctx, 'sbverify', 'openssl');
    keys = testKeys();
    const r = await run(
      'build',
      '--stub',
      fixturePath('stub'),
      '--linux',
      fixturePath('kernel'),
      '--cmdline',
      'console=ttyS0',
      '--sign-key',
      keys.rsa.key,
      '--sign-cert',
      keys.rsa.cert,
      '-o',
      path('signed.efi'),
      '--json',
    );
    const summary = JSON.parse(r.out);
    expect(summary.signedBy).toMatch(/ukibpf test RSA/);
    expect(summary.sections.at(-1).name).toBe('.sbat'); // merged SBAT outgrew its slot in this stub
    const ok = spawnSync(findTool('sbverify')!, ['--cert', keys.rsa.cert, path('signed.efi')], { encoding: 'utf8' });
    expect(ok.status, ok.stderr + ok.stdout).toBe(0);
    const wrong = spawnSync(findTool('sbverify')!, ['--cert', keys.stranger.cert, path('signed.efi')], {
      encoding: 'utf8',
    });
    expect(wrong.status).not.toBe(0);
    const v = verifyImage(readFileSync(path('signed.efi')), loadCertificates(readFileSync(keys.rsa.cert)));
    expect(v.ok).toBe(true);
  });
});
