import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  readlinkSync,
  lstatSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CPIO_ERROR,
  CpioError,
  packSidecarDirectory,
  packSidecarLiteral,
  readCpio,
  readCpioArchives,
  SIDECARS,
  selectSidecarFiles,
  unpackInitramfs,
  writeCpio,
} from '../../formats/cpio/index.ts';
import { decompressMethod, decompressSync } from '../../formats/decompress/index.ts';
import { missingTool } from '../support/env.ts';

const enc = new TextEncoder();
const text = (s: string) => enc.encode(s);
const ascii = (b: Uint8Array) => Buffer.from(b).toString('latin1');

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'ukibpf-cpio-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cpio = (args: string[], input: Uint8Array, cwd: string) =>
  spawnSync('cpio', args, { input, cwd, maxBuffer: 1 << 26 });

const expectCpioError = (fn: () => unknown, code: string, offset?: number): void => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CpioError);
    expect((e as CpioError).code).toBe(code);
    if (offset !== undefined) expect((e as CpioError).offset).toBe(offset);
    return;
  }
  throw new Error(`expected ${code}`);
};

/** A newc header built field by field, independently of formats/cpio, for hand-made archives. */
const header = (f: { ino?: number; mode: number; size?: number; nlink?: number; namesize: number; magic?: string }) =>
  (f.magic ?? '070701') +
  [f.ino ?? 1, f.mode, 0, 0, f.nlink ?? 1, 0, f.size ?? 0, 0, 0, 0, 0, f.namesize, 0]
    .map((v) => v.toString(16).padStart(8, '0'))
    .join('');
const TRAILER = `${header({ ino: 0, mode: 0, namesize: 11 })}TRAILER!!!\0\0\0\0`;
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

describe('writer vs GNU cpio', () => {
  const entries = [
    { name: 'etc', type: 'directory' as const, permissions: 0o750 },
    { name: 'etc/hostname', data: 'uki\n', permissions: 0o640 },
    { name: 'etc/empty', data: '', permissions: 0o600 },
    { name: 'etc/odd name-with.dots', data: new Uint8Array([0, 1, 2, 3, 4, 5, 6]), permissions: 0o755 },
    { name: 'bin', type: 'directory' as const },
    { name: 'bin/sh', type: 'symlink' as const, data: 'busybox' },
    { name: 'bin/busybox', data: new Uint8Array(5000).map((_, i) => i % 251), permissions: 0o755 },
  ];
  it('cpio -t lists what we write and cpio -i extracts the same contents and modes', (ctx) => {
    const why = missingTool('cpio');
    if (why) ctx.skip(why);
    const archive = writeCpio(entries);
    const list = cpio(['-t', '--quiet'], archive, tmp);
    expect(list.status).toBe(0);
    expect(list.stdout.toString().trim().split('\n')).toEqual(entries.map((e) => e.name));
    const out = join(tmp, 'extract');
    mkdirSync(out);
    const ex = cpio(['-i', '-d', '--quiet', '--no-absolute-filenames'], archive, out);
    expect(ex.status, ex.stderr.toString()).toBe(0);
    for (const e of entries) {
      const p = join(out, e.name);
      if (e.type === 'directory') {
        expect(statSync(p).isDirectory()).toBe(true);
        expect(statSync(p).mode & 0o7777).toBe(e.permissions ?? 0o755);
      } else if (e.type === 'symlink') {
        expect(lstatSync(p).isSymbolicLink()).toBe(true);
        expect(readlinkSync(p)).toBe('busybox');
      } else {
        const data = typeof e.data === 'string' ? text(e.data) : e.data;
        expect(Buffer.from(readFileSync(p)).equals(Buffer.from(data))).toBe(true);
        expect(statSync(p).mode & 0o7777).toBe(e.permissions);
      }
    }
  });
  it('writes 070702 archives with the data checksum GNU cpio verifies', (ctx) => {
    const why = missingTool('cpio');
    if (why) ctx.skip(why);
    const archive = writeCpio(entries, { format: 'crc' });
    expect(ascii(archive.subarray(0, 6))).toBe('070702');
    const out = join(tmp, 'extract-crc');
    mkdirSync(out);
    const ex = cpio(['-i', '-d', '--quiet'], archive, out);
    expect(ex.status, ex.stderr.toString()).toBe(0);
    expect(readCpio(archive).entries.map((e) => e.name)).toEqual(entries.map((e) => e.name));
  });
  it('round-trips through our reader with every field', () => {
    const archive = writeCpio(entries);
    const back = readCpio(archive);
    expect(back.end).toBe(archive.length);
    expect(back.entries.map((e) => [e.name, e.type, e.permissions, e.ino, e.nlink, e.mtime])).toEqual(
      entries.map((e, i) => [
        e.name,
        e.type ?? 'file',
        e.permissions ?? (e.type === 'directory' ? 0o755 : e.type === 'symlink' ? 0o777 : 0o644),
        i + 1,
        1,
        0,
      ]),
    );
    for (const e of back.entries) expect(e.offset % 4).toBe(0);
  });
  it('refuses names with .., absolute names, NULs, empty components and over-long ones', () => {
    for (const name of ['../x', 'a/../b', '/etc', 'a\0b', 'a//b', '', 'x'.repeat(256), `${'d/'.repeat(2100)}f`]) {
      expectCpioError(() => writeCpio([{ name }]), CPIO_ERROR.BAD_NAME);
    }
    expectCpioError(() => writeCpio([{ name: 'd', type: 'directory', data: 'x' }]), CPIO_ERROR.BAD_SIZE);
    expectCpioError(() => writeCpio([{ name: 'f', mtime: 2 ** 32 }]), CPIO_ERROR.FIELD_RANGE);
  });
});

describe('reader vs GNU cpio -o -H newc', () => {
  it('reads a tree GNU cpio archived, with its hard links, symlinks and block padding', (ctx) => {
    const why = missingTool('cpio');
    if (why) ctx.skip(why);
    const root = join(tmp, 'tree');
    mkdirSync(join(root, 'sub/deeper'), { recursive: true });
    writeFileSync(join(root, 'a.txt'), 'alpha\n');
    writeFileSync(
      join(root, 'sub/b.bin'),
      new Uint8Array(1234).map((_, i) => (i * 7) & 0xff),
    );
    writeFileSync(join(root, 'sub/deeper/empty'), '');
    chmodSync(join(root, 'sub/b.bin'), 0o600);
    symlinkSync('a.txt', join(root, 'link'));
    const names = ['.', 'a.txt', 'link', 'sub', 'sub/b.bin', 'sub/deeper', 'sub/deeper/empty'];
    const r = spawnSync('cpio', ['-o', '-H', 'newc', '--quiet'], {
      input: `${names.join('\n')}\n`,
      cwd: root,
      maxBuffer: 1 << 24,
    });
    expect(r.status).toBe(0);
    const archive = new Uint8Array(r.stdout);
    expect(archive.length % 512).toBe(0);
    const [first, ...rest] = readCpioArchives(archive);
    expect(rest).toEqual([]);
    const got = first!.entries;
    expect(got.map((e) => e.name)).toEqual(names);
    const byName = new Map(got.map((e) => [e.name, e]));
    expect(ascii(byName.get('a.txt')!.data)).toBe('alpha\n');
    expect(byName.get('link')!.type).toBe('symlink');
    expect(ascii(byName.get('link')!.data)).toBe('a.txt');
    expect(byName.get('sub/b.bin')!.permissions).toBe(0o600);
    expect(byName.get('sub/b.bin')!.data.length).toBe(1234);
    expect(byName.get('sub')!.type).toBe('directory');
  });
});

describe('systemd-stub sidecar archives', () => {
  it('matches the stub byte for byte for a literal section (.osrel → .extra/os-release)', () => {
    const got = packSidecarLiteral(SIDECARS.osrel, text('ID=debian\n'));
    // Written out from src/boot/cpio.c: dir ".extra" 0555 (inode 1), file 0444 (inode 2), trailer "0000000B".
    const want =
      `${header({ ino: 1, mode: 0o40555, namesize: 7 })}.extra\0\0\0\0` +
      `${header({ ino: 2, mode: 0o100444, size: 10, namesize: 18 })}.extra/os-release\0ID=debian\n\0\0` +
      TRAILER.replace('0000000b', '0000000B');
    expect(ascii(got)).toBe(want);
    expect(got.length).toBe(384);
  });
  it('builds credential archives as the stub does: parents 0555, dir 0500, files 0400 sorted, inodes from 1', () => {
    const files = [
      { name: 'zz.cred', data: text('z') },
      { name: 'A.CRED', data: text('upper case suffix counts') },
      { name: '.hidden.cred', data: text('skipped') },
      { name: 'note.txt', data: text('wrong suffix') },
      { name: 'caf\u00e9.cred', data: text('non-ASCII: skipped') },
      { name: 'b.cred', data: text('b') },
    ];
    const archive = packSidecarDirectory(SIDECARS.credentials, files)!;
    const { entries, end } = readCpio(archive);
    expect(end).toBe(archive.length);
    expect(entries.map((e) => [e.name, e.type, e.permissions, e.ino, e.nlink, e.mtime, e.uid, e.gid])).toEqual([
      ['.extra', 'directory', 0o555, 1, 1, 0, 0, 0],
      ['.extra/credentials', 'directory', 0o500, 2, 1, 0, 0, 0],
      ['.extra/credentials/A.CRED', 'file', 0o400, 3, 1, 0, 0, 0],
      ['.extra/credentials/b.cred', 'file', 0o400, 4, 1, 0, 0, 0],
      ['.extra/credentials/zz.cred', 'file', 0o400, 5, 1, 0, 0, 0],
    ]);
    expect(ascii(archive.subarray(archive.length - 124))).toBe(TRAILER.replace('0000000b', '0000000B'));
    expect(packSidecarDirectory(SIDECARS.credentials, [{ name: 'x.txt', data: text('') }])).toBeUndefined();
  });
  it('filters sysext/confext names like the stub (exclude suffix, length, case)', () => {
    const names = [
      'a.raw',
      'b.confext.raw',
      'C.RAW',
      'd.sysext.raw',
      `${'e'.repeat(251)}.raw`,
      `${'e'.repeat(252)}.raw`,
    ];
    expect(selectSidecarFiles(names, SIDECARS.sysext)).toEqual([
      'C.RAW',
      'a.raw',
      'd.sysext.raw',
      `${'e'.repeat(251)}.raw`,
    ]);
    expect(selectSidecarFiles(names, SIDECARS.confext)).toEqual(['b.confext.raw']);
  });
  it('GNU cpio extracts a concatenation of sidecar archives (each repeating .extra)', (ctx) => {
    const why = missingTool('cpio');
    if (why) ctx.skip(why);
    const a = packSidecarLiteral(SIDECARS.pcrpkey, text('-----BEGIN PUBLIC KEY-----\n'));
    const b = packSidecarDirectory(SIDECARS.sysext, [{ name: 'x.raw', data: new Uint8Array(3) }])!;
    const out = join(tmp, 'sidecars');
    mkdirSync(out);
    for (const arc of [a, b]) expect(cpio(['-i', '-d', '--quiet'], arc, out).status).toBe(0);
    expect(statSync(join(out, '.extra/sysext')).mode & 0o7777).toBe(0o555);
    expect(statSync(join(out, '.extra/sysext/x.raw')).mode & 0o7777).toBe(0o444);
    expect(readFileSync(join(out, '.extra/tpm2-pcr-public-key.pem'), 'latin1')).toBe('-----BEGIN PUBLIC KEY-----\n');
    expect(readCpioArchives(new Uint8Array([...a, 0, 0, 0, 0, ...b])).map((x) => x.entries.length)).toEqual([2, 3]);
  });
});

describe('reader errors name the offset', () => {
  const good = writeCpio([{ name: 'f', data: 'data' }]);
  it('truncation anywhere is TRUNCATED', () => {
    for (const cut of [0, 5, 109, 110, 113, 116, 119, good.length - 1])
      expectCpioError(() => readCpio(good.subarray(0, cut)), CPIO_ERROR.TRUNCATED);
  });
  it('odc and unknown magics, bad hex, bad padding, data on a directory, names with .. or / or no NUL', () => {
    expectCpioError(() => readCpio(bytes(`070707${'0'.repeat(200)}`)), CPIO_ERROR.ODC_FORMAT, 0);
    expectCpioError(() => readCpio(bytes(`123456${'0'.repeat(200)}`)), CPIO_ERROR.BAD_MAGIC, 0);
    const badHex = bytes(ascii(good));
    badHex[6 + 8 * 6 + 3] = 0x7a; // 'z' inside c_filesize
    expectCpioError(() => readCpio(badHex), CPIO_ERROR.BAD_FIELD, 6 + 8 * 6 + 3);
    const badPad = writeCpio([{ name: 'fx', data: 'abc' }]);
    badPad[114] = 1; // header + "fx\0" end at 113; 113..115 pad the name
    expectCpioError(() => readCpio(badPad), CPIO_ERROR.BAD_PADDING, 114);
    badPad[114] = 0;
    badPad[119] = 1; // data 116..118, then one byte of padding
    expectCpioError(() => readCpio(badPad), CPIO_ERROR.BAD_PADDING, 119);
    expectCpioError(
      () => readCpio(bytes(`${header({ mode: 0o40755, size: 4, namesize: 2 })}d\0DATA${TRAILER}`)),
      CPIO_ERROR.BAD_SIZE,
    );
    expectCpioError(
      () => readCpio(bytes(`${header({ mode: 0o100644, namesize: 5 })}../x\0\0${TRAILER}`)),
      CPIO_ERROR.BAD_NAME,
      110,
    );
    expectCpioError(
      () => readCpio(bytes(`${header({ mode: 0o100644, namesize: 5 })}/etc\0\0${TRAILER}`)),
      CPIO_ERROR.BAD_NAME,
      110,
    );
    expectCpioError(
      () => readCpio(bytes(`${header({ mode: 0o100644, namesize: 4 })}abcd\0\0${TRAILER}`)),
      CPIO_ERROR.BAD_NAME,
      113,
    );
    expectCpioError(
      () => readCpio(bytes(`${header({ mode: 0o100644, namesize: 4 })}a\0c\0\0\0${TRAILER}`)),
      CPIO_ERROR.BAD_NAME,
      111,
    );
    expectCpioError(() => readCpio(bytes(`${header({ mode: 0o100644, namesize: 0 })}${TRAILER}`)), CPIO_ERROR.BAD_NAME);
    // Lenient mode keeps only the kernel's rules.
    expect(
      readCpio(bytes(`${header({ mode: 0o100644, namesize: 5 })}/etc\0\0${TRAILER}`), { strictNames: false })
        .entries[0]!.name,
    ).toBe('/etc');
  });
  it('a misaligned second archive is MISALIGNED (the kernel says broken padding)', () => {
    expectCpioError(
      () => readCpioArchives(new Uint8Array([...good, 0, 0, ...good])),
      CPIO_ERROR.MISALIGNED,
      good.length + 2,
    );
  });
  it('fuzz: mutations of a real archive give entries or a CpioError', () => {
    const seed = writeCpio([
      { name: 'd', type: 'directory' },
      { name: 'd/f', data: 'hello world' },
      { name: 'd/l', type: 'symlink', data: 'f' },
    ]);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(seed.length),
        (flips, cut) => {
          const m = new Uint8Array(seed.subarray(0, cut));
          for (const [at, v] of flips) if (at < m.length) m[at] = v;
          try {
            readCpioArchives(m);
          } catch (e) {
            if (!(e instanceof CpioError)) throw e;
          }
          const k = unpackInitramfs(m, {
            decompress: (b) => decompressSync(b, { maxOutput: 1 << 16, trailing: 'allow' }),
            method: (b) => decompressMethod(b),
          });
          expect(Array.isArray(k.entries)).toBe(true);
        },
      ),
      { numRuns: 2000, seed: 42 },
    );
  });
});

describe('the kernel initramfs unpacker model', () => {
  const unpack = (b: Uint8Array, configured?: ReadonlySet<string>) =>
    unpackInitramfs(b, {
      decompress: (x) => decompressSync(x, { maxOutput: 1 << 24, trailing: 'allow' }),
      method: (x) => decompressMethod(x),
      ...(configured ? { configured } : {}),
    });
  const a1 = writeCpio([
    { name: 'etc', type: 'directory' },
    { name: 'etc/a', data: 'first' },
  ]);
  const a2 = writeCpio([
    { name: 'etc/a', data: 'second' },
    { name: 'etc/b', data: 'b' },
  ]);
  it('reads uncompressed + compressed members with NUL padding between them', (ctx) => {
    const why = missingTool('gzip', 'lz4', 'zstd');
    if (why) ctx.skip(why);
    const gz = new Uint8Array(spawnSync('gzip', ['-c'], { input: a2 }).stdout);
    const lz = new Uint8Array(spawnSync('lz4', ['-l', '-c'], { input: a1 }).stdout);
    const zs = new Uint8Array(spawnSync('zstd', ['-c'], { input: a2 }).stdout);
    const pad = (n: number) => new Uint8Array(n);
    const buf = new Uint8Array([
      ...a1,
      ...pad(8),
      ...gz,
      ...pad((4 - (gz.length % 4)) % 4),
      ...a2,
      ...zs,
      ...pad(3),
      ...lz,
    ]);
    const r = unpack(buf);
    expect(r.error).toBeUndefined();
    expect(r.members.map((m) => (m.kind === 'cpio' ? 'cpio' : m.format))).toEqual([
      'cpio',
      'gzip',
      'cpio',
      'zstd',
      'lz4',
    ]);
    expect(r.entries.map((e) => e.name)).toEqual([
      'etc',
      'etc/a',
      'etc/a',
      'etc/b',
      'etc/a',
      'etc/b',
      'etc/a',
      'etc/b',
      'etc',
      'etc/a',
    ]);
    expect(r.entries[1]!.offset).toBe(116);
  });
  it('reports the kernel messages: broken padding, junk, not configured, odc, malformed', (ctx) => {
    const why = missingTool('gzip');
    if (why) ctx.skip(why);
    expect(unpack(new Uint8Array([...a1, 0, 0, ...a2])).error).toEqual({
      message: 'broken padding',
      offset: a1.length + 2,
    });
    expect(unpack(new Uint8Array([...a1, 0x41, 0x42])).error?.message).toBe('junk in compressed archive');
    const gz = new Uint8Array(spawnSync('gzip', ['-c'], { input: a1 }).stdout);
    expect(unpack(gz, new Set(['zstd'])).error?.message).toBe('compression method gzip not configured');
    expect(unpack(bytes(`070707${'0'.repeat(120)}`)).error?.message).toBe(
      'incorrect cpio method used: use -H newc option',
    );
    expect(unpack(bytes(`${header({ mode: 0o100644, namesize: 2 })}ab${TRAILER}`)).error?.message).toBe(
      'malformed archive',
    );
    // A compressed archive must end right after a trailer (and padding).
    const half = new Uint8Array(spawnSync('gzip', ['-c'], { input: a1.subarray(0, 120) }).stdout);
    expect(unpack(half).error?.message).toBe('junk in compressed archive');
  });
  it('skips over-long names and data on directories like the kernel, and stops silently when truncated', () => {
    const weird = bytes(`${header({ mode: 0o40755, size: 4, namesize: 2 })}d\0DATA${TRAILER}`);
    const r = unpack(weird);
    expect(r.error).toBeUndefined();
    expect(r.entries).toEqual([]);
    const t = unpack(a1.subarray(0, 130));
    expect(t.error).toBeUndefined();
    expect(t.truncated).toBe(true);
  });
});
