/**
 * The whole path, end to end: the Debian systemd-stub and cloud kernel, a busybox initramfs, the UKI
 * parser compiled from parsers/uki.ts, a signed cmdline addon and a credential sidecar → a signed UKI →
 * `kexec-bpf --dump` (the simulated kernel runs the parser) → QEMU (TCG) boots the dumped kernel, initrd
 * and command line, and the initramfs prints what it was given. A second path boots the Debian kernel
 * out of a signed EFI zboot image whose `.bpf` is the compiled parsers/zboot.ts (initrd and command line
 * given to kexec-bpf the kexec-tools way).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { register as build } from '../../kexec-tools-shim/commands/build.ts';
import { register as buildAddon } from '../../kexec-tools-shim/commands/build-addon.ts';
import { register as compile } from '../../kexec-tools-shim/commands/compile.ts';
import { register as sign } from '../../kexec-tools-shim/commands/sign.ts';
import { runCli } from '../support/cli.ts';
import { REPO_ROOT } from '../support/clang.ts';
import { findTool, missingTool } from '../support/env.ts';
import { fixturePath, missingFixture, testKeys } from '../support/fixtures.ts';
import { busyboxInitrd, MARK, runChild, unusableBusybox, zbootPe } from './support.ts';

const PARSER = join(REPO_ROOT, 'parsers/uki.ts');
const ZBOOT_PARSER = join(REPO_ROOT, 'parsers/zboot.ts');
const KEXEC_BPF = join(REPO_ROOT, 'bin/kexec-bpf');
const QEMU_DEADLINE_MS = 25_000;

const dir = mkdtempSync(join(tmpdir(), 'ukibpf-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const path = (name: string): string => join(dir, name);
const ukibpf = (...args: string[]) => runCli([compile, build, buildAddon, sign], args);

const missing = (): string | undefined =>
  missingTool('qemu-system-x86_64') ?? unusableBusybox() ?? missingFixture('stub', 'kernel') ?? missingTool('openssl');

/** QEMU (q35, TCG) boots kernel + initrd with `cmdline console=ttyS0`; the serial console's text comes back. */
const bootQemu = async (kernel: string, initrd: string, cmdline: string) => {
  const boot = await runChild(
    'qemu-system-x86_64',
    [
      '-machine',
      'q35',
      '-accel',
      'tcg',
      '-m',
      '256',
      '-nographic',
      '-no-reboot',
      '-nodefaults',
      '-serial',
      'stdio',
    ].concat(['-kernel', kernel, '-initrd', initrd, '-append', `${cmdline} console=ttyS0`]),
    QEMU_DEADLINE_MS,
  );
  const console = boot.stdout.replace(/\r/g, '');
  expect(boot.timedOut, `QEMU did not power off within ${QEMU_DEADLINE_MS} ms:\n${console.slice(-3000)}`).toBe(false);
  const line = console.split('\n').find((l) => l.startsWith(MARK.cmdline));
  expect(line, console.slice(-3000)).toBeDefined();
  return { console, cmdline: (line ?? '').slice(MARK.cmdline.length), ms: boot.ms };
};

const kexecBpf = (args: readonly string[]) => runChild(process.execPath, [KEXEC_BPF, ...args], 60_000);

describe('end to end: signed UKI → kexec-bpf → QEMU', () => {
  it('boots what kexec-bpf loaded: the addon is on the command line, the credential in /.extra', async (ctx) => {
    const why = missing();
    if (why) ctx.skip(why);
    const keys = testKeys().rsa;
    const t0 = performance.now();

    writeFileSync(path('initrd.cpio'), busyboxInitrd(readFileSync(findTool('busybox') as string)));
    await ukibpf('compile', PARSER, '-o', path('parser.o'));
    const signing = ['--sign-key', keys.key, '--sign-cert', keys.cert];
    await ukibpf(
      'build',
      ...['--stub', fixturePath('stub'), '--linux', fixturePath('kernel'), '--initrd', path('initrd.cpio')],
      ...['--cmdline', 'e2e.base=1 panic=-1', '--bpf', path('parser.o'), ...signing, '-o', path('uki.efi')],
    );
    const addonText = 'e2e.addon=hello-from-the-addon';
    await ukibpf(
      'build-addon',
      '--stub',
      fixturePath('stub'),
      '--cmdline',
      addonText,
      ...signing,
      '-o',
      path('e2e.addon.efi'),
    );
    const credential = 'secret-from-foo-cred';
    writeFileSync(path('foo.cred'), credential);
    const built = performance.now();

    const load = await kexecBpf(
      ['-s', '-l', path('uki.efi'), '--addon', path('e2e.addon.efi'), '--addon', path('foo.cred')].concat([
        '--keyring',
        keys.cert,
        '--sig-enforce',
        '--timeout',
        '60',
        '--dump',
        path('dump'),
        '--json',
      ]),
    );
    expect(load.stderr).toBe('');
    expect(load.code).toBe(0);
    const kimage = JSON.parse(readFileSync(path('dump/kimage.json'), 'utf8')) as { cmdline: string; arch: string };
    expect(kimage.arch).toBe('x86_64');
    expect(kimage.cmdline).toContain(addonText);

    const boot = await bootQemu(path('dump/kernel'), path('dump/initrd'), kimage.cmdline);
    console.log(
      `e2e UKI: build ${Math.round(built - t0)} ms, kexec-bpf --dump ${Math.round(load.ms)} ms, QEMU boot to poweroff ${Math.round(boot.ms)} ms`,
    );
    expect(boot.cmdline).toContain('e2e.base=1');
    expect(boot.cmdline).toContain(addonText);
    const listing = boot.console.slice(boot.console.indexOf(MARK.extraBegin), boot.console.indexOf(MARK.extraEnd));
    expect(listing).toMatch(/\/\.extra\/credentials:\n(?:total \d+\n)?.*foo\.cred/);
    expect(boot.console).toContain(`${MARK.cred}/.extra/credentials/foo.cred: ${credential}`);
  });

  it('boots the Debian kernel out of a signed zboot image (parsers/zboot.ts), with --initrd and --command-line', async (ctx) => {
    const why = missing();
    if (why) ctx.skip(why);
    const keys = testKeys().rsa;
    writeFileSync(path('zb-initrd.cpio'), busyboxInitrd(readFileSync(findTool('busybox') as string)));
    await ukibpf('compile', ZBOOT_PARSER, '-o', path('zboot.o'));
    const bzImage = readFileSync(fixturePath('kernel'));
    const payload = gzipSync(bzImage, { level: 1 });
    writeFileSync(path('zboot-unsigned.efi'), zbootPe('gzip', payload, bzImage.length, readFileSync(path('zboot.o'))));
    await ukibpf('sign', path('zboot-unsigned.efi'), '--key', keys.key, '--cert', keys.cert, '-o', path('zboot.efi'));
    const cmdline = 'e2e.zboot=1 panic=-1';
    const load = await kexecBpf(
      ['-s', '-l', path('zboot.efi'), '--initrd', path('zb-initrd.cpio'), '--command-line', cmdline].concat([
        '--keyring',
        keys.cert,
        '--sig-enforce',
        '--timeout',
        '60',
        '--dump',
        path('zb-dump'),
      ]),
    );
    expect(load.stderr).toBe('');
    expect(load.code).toBe(0);
    expect(readFileSync(path('zb-dump/kernel')).equals(bzImage)).toBe(true);
    const boot = await bootQemu(
      path('zb-dump/kernel'),
      path('zb-dump/initrd'),
      readFileSync(path('zb-dump/cmdline'), 'utf8'),
    );
    console.log(
      `e2e zboot: kexec-bpf --dump ${Math.round(load.ms)} ms, QEMU boot to poweroff ${Math.round(boot.ms)} ms`,
    );
    expect(boot.cmdline).toBe(`${cmdline} console=ttyS0`);
  });
});
