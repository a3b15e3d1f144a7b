/**
 * The `kexec-bpf` command as a user runs it (bin/kexec-bpf in a child process): kexec-tools' messages
 * and exit codes, --dump, --json, -e, --reuse-cmdline, and that a run leaves no temporary files.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeImages } from './images.ts';

const BIN = new URL('../../../bin/kexec-bpf', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'kexec-bpf-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const img = writeImages(dir);
const trust = ['--keyring', img.cert, '--sig-enforce'];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** What the run left in its TMPDIR. */
  left: string[];
}

let runs = 0;
const kexecBpf = (args: string[], env: Record<string, string> = {}): Promise<Run> => {
  const tmp = join(dir, `tmp${runs++}`);
  mkdirSync(tmp);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, TMPDIR: tmp, ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        // tsx keeps its compile cache in TMPDIR (tsx-<uid>): not ours
        resolve({ code, stdout, stderr, left: readdirSync(tmp).filter((n) => !n.startsWith('tsx-')) });
      },
    );
  });
};

// independent child processes: run them side by side
describe.concurrent('kexec-bpf', () => {
  it('loads with -l --keyring --sig-enforce, dumps kernel/initrd/cmdline/kimage.json, -e shows the handover', async () => {
    const proc = join(dir, 'cmdline');
    writeFileSync(proc, 'BOOT_IMAGE=/vmlinuz root=/dev/vda1 crashkernel=256M quiet\n');
    const out = join(dir, 'dump');
    const r = await kexecBpf(
      [
        '-s',
        '-l',
        img.signed,
        ...trust,
        '--initrd',
        img.initrd,
        '--reuse-cmdline',
        '--append',
        'console=ttyS0',
        '--dump',
        out,
        '-e',
      ],
      { KEXEC_BPF_PROC_CMDLINE: proc },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /would now reboot\(LINUX_REBOOT_CMD_KEXEC\) into the default image \(x86_64, kexec-bzImage64\)/,
    );
    expect(r.stdout).toContain('command line: root=/dev/vda1 crashkernel=256M quiet console=ttyS0');
    expect(new Uint8Array(readFileSync(join(out, 'kernel')))).toEqual(img.bz);
    expect(readFileSync(join(out, 'initrd'))).toEqual(readFileSync(img.initrd));
    expect(readFileSync(join(out, 'cmdline'), 'utf8')).toBe('root=/dev/vda1 crashkernel=256M quiet console=ttyS0');
    const k = JSON.parse(readFileSync(join(out, 'kimage.json'), 'utf8'));
    expect(k).toMatchObject({ type: 'default', loader: 'kexec-bzImage64', kernel: { size: img.bz.length } });
    // the digests (the initrd's is its segment's) are those of the files dumped
    const sha256 = (file: string): string =>
      createHash('sha256')
        .update(readFileSync(join(out, file)))
        .digest('hex');
    expect(k.kernel.sha256).toBe(sha256('kernel'));
    expect(k.initrd.sha256).toBe(sha256('initrd'));
    expect(k.segments.find((s: { name: string }) => s.name === 'initrd').sha256).toBe(k.initrd.sha256);
    expect(k.stages).toHaveLength(1);
    expect(readdirSync(out).sort()).toEqual(['cmdline', 'initrd', 'kernel', 'kimage.json']);
    expect(r.left).toEqual([]);
  });

  it('-p --json: the crash slot, crashkernel= stripped from the reused command line', async () => {
    const proc = join(dir, 'cmdline2');
    writeFileSync(proc, 'BOOT_IMAGE=/vmlinuz crashkernel=256M quiet');
    const r = await kexecBpf(['-p', img.signed, ...trust, '--reuse-cmdline', '--json', '-d'], {
      KEXEC_BPF_PROC_CMDLINE: proc,
    });
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ exitCode: 0, load: { errno: 0, kimage: { type: 'crash', cmdline: 'quiet' } } });
    expect(j.load.stages[0].log).toMatch(/processed \d+ insns/);
  });

  it('-d shows the handshake in order: ThreadA enters, ThreadB loads and attaches, ThreadA returns', async () => {
    const r = await kexecBpf(['-l', img.addon, ...trust, '--addon', img.addonFile, '-d']);
    expect(r.code).toBe(0);
    const steps = r.stderr.split('\n').filter((l) => /^kexec-bpf: (stage 0: )?Thread[AB]:/.test(l));
    expect(steps.map((l) => l.replace(/fd \d+/g, 'fd N').replace(/\(processed .*\)/, '(processed …)'))).toEqual([
      `kexec-bpf: ThreadA: kexec_file_load(kernel_fd=<${img.addon}>, initrd_fd=-1, cmdline=NULL, flags=KEXEC_FILE_NO_INITRAMFS); ThreadB armed with addons ${img.addonFile}`,
      expect.stringMatching(
        /^kexec-bpf: stage 0: ThreadB: eventfd A \(fd N\) signalled; read the \.bpf node \(\d+ bytes\)$/,
      ),
      expect.stringMatching(
        /^kexec-bpf: stage 0: ThreadB: bpf\(BPF_MAP_CREATE\) × \d+: .*kexec_addons filled with: debug\.addon\.efi$/,
      ),
      'kexec-bpf: stage 0: ThreadB: bpf(BPF_PROG_LOAD) = fd N: the verifier accepted the program (processed …)',
      'kexec-bpf: stage 0: ThreadB: bpf(BPF_LINK_CREATE) = fd N: attached to the parser hook',
      'kexec-bpf: stage 0: ThreadB: eventfd B (fd N) signalled: the kernel runs the parser',
      'kexec-bpf: ThreadA: kexec_file_load returned 0',
    ]);
  });

  it('--arch arm64: the arm64 probe refuses a bzImage (kexec-tools wording, exit 3)', async () => {
    const r = await kexecBpf(['-l', img.signed, ...trust, '--arch', 'arm64']);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('kexec_file_load failed: Invalid argument\n');
    const bad = await kexecBpf(['-l', img.signed, '--arch', 'mips']);
    expect(bad.code).toBe(2);
  });

  it('ends a bad signature with "kexec_file_load failed: <strerror>" and exit 1', async () => {
    const r = await kexecBpf(['-l', img.otherKey, ...trust]);
    expect(r.stderr).toBe('kexec_file_load failed: Required key not available\n');
    expect(r.code).toBe(1);
    expect(r.left).toEqual([]);
  });

  it('shows the verifier log on rejection (exit 1)', async () => {
    const r = await kexecBpf(['-l', img.rejected, ...trust]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/stage 0: \.bpf section of \d+ bytes: prog failed/);
    expect(r.stderr).toMatch(/processed \d+ insns/);
    expect(r.stderr).toMatch(/kexec_file_load failed: No such file or directory\n$/);
  });

  it('a crashed loader thread: timeout message, exit 4, nothing left behind', async () => {
    const r = await kexecBpf(['-l', img.signed, ...trust, '--timeout', '0.3'], { KEXEC_BPF_FAULT: 'crash' });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('kexec-bpf: the loader thread died: injected loader fault');
    expect(r.stderr).toContain('kexec_file_load failed: Connection timed out');
    expect(r.left).toEqual([]);
  });

  it('-v/--version prints the version, as kexec-tools does, from package.json', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
    for (const flag of ['-v', '--version']) {
      const r = await kexecBpf([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`kexec-bpf ${version} (kexec-tools options, kexec_file_load with a .bpf parser)\n`);
    }
  });

  it('usage errors: -c refused, -e with nothing loaded, missing files', async () => {
    const c = await kexecBpf(['-c', '-l', img.signed]);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/-c\/--kexec-syscall: kexec_load\(2\) is not supported/);
    const e = await kexecBpf(['-e']);
    expect([e.code, e.stderr]).toEqual([1, 'Nothing has been loaded!\n']);
    const m = await kexecBpf(['-l', join(dir, 'missing.efi')]);
    expect(m.code).toBe(3);
    expect(m.stderr).toBe(`Cannot open \`${join(dir, 'missing.efi')}': No such file or directory\n`);
  });
});
