/**
 * The interpreter benchmark corpus: compute programs of the shapes a parser program has, in the
 * conformance/uBPF assembly syntax, each with its input and a plain-TypeScript reference of its answer.
 * Calling convention: R1 = input memory (writable), R2 = its length (bpf_conformance's).
 *
 * All are accepted by the Linux verifier (loops have constant trip counts or a constant iteration
 * cap; no more than a few unknown branches per iteration, below the 8192 pending-jump limit) and
 * none contains the `neg; and/or K` pattern of ebpf.md §8: CRC masks are `(x & 1) * POLY`.
 */

export interface BenchProgram {
  readonly name: string;
  readonly what: string;
  readonly source: string;
  /** A fresh input (programs may write it). */
  readonly input: () => Uint8Array;
  /** The expected R0 for that input. */
  readonly expected: (input: Uint8Array) => bigint;
}

/** Deterministic bytes (xorshift32), so runs are comparable. */
export const pseudoRandom = (n: number, seed = 0x9e3779b9): Uint8Array => {
  const out = new Uint8Array(n);
  let x = seed | 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
};

const u16 = (b: Uint8Array, at: number): number => (b[at] as number) | ((b[at + 1] as number) << 8);
const u32 = (b: Uint8Array, at: number): number => (u16(b, at) | (u16(b, at + 2) << 16)) >>> 0;

const checksum: BenchProgram = {
  name: 'checksum',
  what: 'RFC 1071 ones-complement sum of 16-bit words over 32 KiB',
  source: `
    mov %r0, 0
    mov %r3, 0
  loop:
    ldxh %r4, [%r1]
    add %r0, %r4
    add %r1, 2
    add %r3, 2
    jlt %r3, %r2, loop
    mov %r4, %r0
    rsh %r4, 16
    and %r0, 0xffff
    add %r0, %r4
    mov %r4, %r0
    rsh %r4, 16
    and %r0, 0xffff
    add %r0, %r4
    xor %r0, 0xffff
    exit`,
  input: () => pseudoRandom(32 * 1024, 1),
  expected: (b) => {
    let sum = 0;
    for (let i = 0; i < b.length; i += 2) sum += u16(b, i);
    for (let k = 0; k < 2; k++) sum = (sum & 0xffff) + (sum >>> 16);
    return BigInt(sum ^ 0xffff);
  },
};

const crc32: BenchProgram = {
  name: 'crc32',
  what: 'bitwise CRC-32 (IEEE, reflected) over 4 KiB, mask as (x & 1) * POLY',
  source: `
    mov32 %r0, 0xffffffff
    mov %r3, 0
  byte:
    ldxb %r4, [%r1]
    xor32 %r0, %r4
    mov %r5, 8
  bit:
    mov32 %r6, %r0
    and32 %r6, 1
    mul32 %r6, 0xedb88320
    rsh32 %r0, 1
    xor32 %r0, %r6
    sub %r5, 1
    jne %r5, 0, bit
    add %r1, 1
    add %r3, 1
    jlt %r3, %r2, byte
    xor32 %r0, 0xffffffff
    exit`,
  input: () => pseudoRandom(4096, 2),
  expected: (b) => {
    let c = 0xffffffff;
    for (const byte of b) {
      c ^= byte;
      for (let k = 0; k < 8; k++) c = (c >>> 1) ^ ((c & 1) * 0xedb88320);
    }
    return BigInt((c ^ 0xffffffff) >>> 0);
  },
};

const fnv1a: BenchProgram = {
  name: 'fnv1a',
  what: '64-bit FNV-1a over 8 KiB',
  source: `
    lddw %r0, 0xcbf29ce484222325
    lddw %r5, 0x100000001b3
    mov %r3, 0
  loop:
    ldxb %r4, [%r1]
    xor %r0, %r4
    mul %r0, %r5
    add %r1, 1
    add %r3, 1
    jlt %r3, %r2, loop
    exit`,
  input: () => pseudoRandom(8192, 3),
  expected: (b) => {
    let h = 0xcbf29ce484222325n;
    for (const byte of b) h = BigInt.asUintN(64, (h ^ BigInt(byte)) * 0x100000001b3n);
    return h;
  },
};

const sort: BenchProgram = {
  name: 'sort',
  what: 'bubble sort of 256 u32 in place, branch-free compare-exchange; returns a[0] | a[255] << 32',
  source: `
    mov %r6, 255
  pass:
    mov %r3, 0
    mov %r7, %r1
  step:
    ldxw %r4, [%r7]
    ldxw %r5, [%r7+4]
    mov %r8, %r5
    sub %r8, %r4
    mov %r9, %r8
    rsh %r9, 63
    mul %r8, %r9
    add %r4, %r8
    sub %r5, %r8
    stxw [%r7], %r4
    stxw [%r7+4], %r5
    add %r7, 4
    add %r3, 1
    jlt %r3, %r6, step
    sub %r6, 1
    jne %r6, 0, pass
    ldxw %r0, [%r1]
    ldxw %r4, [%r1+1020]
    lsh %r4, 32
    or %r0, %r4
    exit`,
  input: () => pseudoRandom(1024, 4),
  expected: (b) => {
    const a = Array.from({ length: 256 }, (_, i) => u32(b, 4 * i)).sort((x, y) => x - y);
    return BigInt(a[0] as number) | (BigInt(a[255] as number) << 32n);
  },
};

const PE_SECTIONS = 1000;
const PE_TABLE = 0x80 + 24 + 0xf0;
/** A PE image header with many section headers, one named .linux; raw data ranges partly out of the file. */
const peImage = (): Uint8Array => {
  const size = PE_TABLE + 40 * PE_SECTIONS + 4096;
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  b.set([0x4d, 0x5a]);
  v.setUint32(0x3c, 0x80, true);
  b.set([0x50, 0x45, 0, 0], 0x80);
  v.setUint16(0x80 + 4, 0x8664, true);
  v.setUint16(0x80 + 6, PE_SECTIONS, true);
  v.setUint16(0x80 + 20, 0xf0, true);
  const rnd = pseudoRandom(PE_SECTIONS * 4, 5);
  for (let i = 0; i < PE_SECTIONS; i++) {
    const at = PE_TABLE + 40 * i;
    const name = i === 700 ? '.linux' : `.s${i}`;
    b.set(new TextEncoder().encode(name), at);
    v.setUint32(at + 16, 0x200 * ((rnd[i] as number) % 8), true);
    v.setUint32(at + 20, (rnd[PE_SECTIONS + i] as number) * 0x100, true);
  }
  return b;
};

const peScan: BenchProgram = {
  name: 'pe-scan',
  what: `PE section table walk (${PE_SECTIONS} headers): bounds of each raw range, find .linux`,
  source: `
    ldxw %r3, [%r1+0x3c]
    jgt %r3, 0x1000, bad
    mov %r7, %r1
    add %r7, %r3
    ldxw %r4, [%r7]
    jne %r4, 0x4550, bad
    ldxh %r6, [%r7+6]
    ldxh %r4, [%r7+20]
    jgt %r4, 0x100, bad
    add %r7, 24
    add %r7, %r4
    lddw %r9, 0x78756e696c2e
    mov %r0, 0
    mov %r8, 0
    mov %r3, 0
  section:
    jge %r3, %r6, done
    jge %r3, ${PE_SECTIONS}, done
    ldxdw %r4, [%r7]
    ldxw %r5, [%r7+16]
    ldxw %r1, [%r7+20]
    add %r5, %r1
    jgt %r5, %r2, next
    add %r8, 1
    jne %r4, %r9, next
    mov %r0, %r1
  next:
    add %r7, 40
    add %r3, 1
    ja section
  done:
    lsh %r8, 32
    or %r0, %r8
    exit
  bad:
    mov %r0, -1
    exit`,
  input: peImage,
  expected: (b) => {
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const table = 0x80 + 24 + v.getUint16(0x80 + 20, true);
    let found = 0;
    let valid = 0;
    for (let i = 0; i < v.getUint16(0x80 + 6, true); i++) {
      const at = table + 40 * i;
      const ptr = v.getUint32(at + 20, true);
      if (v.getUint32(at + 16, true) + ptr > b.length) continue;
      valid++;
      if (new TextDecoder().decode(b.subarray(at, at + 8)) === '.linux\0\0') found = ptr;
    }
    return BigInt(found) | (BigInt(valid) << 32n);
  },
};

const CPIO_FILES = 300;
const pad4 = (n: number): number => (n + 3) & ~3;
/** A newc archive of CPIO_FILES small files and the trailer. */
const cpioArchive = (): Uint8Array => {
  const parts: string[] = [];
  const rnd = pseudoRandom(CPIO_FILES, 6);
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  const entry = (name: string, size: number, ino: number) => {
    const fields = [ino, 0o100644, 0, 0, 1, 0, size, 0, 0, 0, 0, name.length + 1, 0];
    const header = `070701${fields.map(hex).join('')}${name}\0`;
    parts.push(header.padEnd(pad4(header.length), '\0'), 'x'.repeat(size).padEnd(pad4(size), '\0'));
  };
  for (let i = 0; i < CPIO_FILES; i++) entry(`usr/lib/file${i}`, (rnd[i] as number) % 64, i + 1);
  entry('TRAILER!!!', 0, 0);
  return new TextEncoder().encode(parts.join(''));
};

/** Parses one 8-digit hex field at [r7+OFF] into r5 (uses r4, r8). */
const hexField = (off: number, label: string): string => `
    mov %r5, 0
    mov %r8, 0
  ${label}:
    mov %r4, %r7
    add %r4, %r8
    ldxb %r4, [%r4+${off}]
    mov %r9, %r4
    rsh %r9, 6
    mul %r9, 9
    and %r4, 0xf
    add %r4, %r9
    lsh %r5, 4
    or %r5, %r4
    add %r8, 1
    jlt %r8, 8, ${label}`;

const cpioWalk: BenchProgram = {
  name: 'cpio-walk',
  what: `cpio newc header walk (${CPIO_FILES} entries): magic, hex namesize/filesize, 4-byte padding`,
  source: `
    mov %r6, 0
    mov %r0, 0
    mov %r3, 0
  entry:
    jge %r3, 1000, done
    mov %r7, %r2
    sub %r7, 110
    jgt %r6, %r7, done
    mov %r7, %r1
    add %r7, %r6
    ldxw %r4, [%r7]
    jne %r4, 0x37303730, done
    ${hexField(54, 'filesize')}
    stxdw [%r10-8], %r5
    ${hexField(94, 'namesize')}
    ldxdw %r4, [%r10-8]
    add %r0, %r4
    add %r6, 113
    add %r6, %r5
    and %r6, -4
    add %r4, 3
    and %r4, -4
    add %r6, %r4
    add %r3, 1
    jne %r4, 0, entry
    jne %r5, 11, entry
  done:
    lsh %r3, 32
    or %r0, %r3
    exit`,
  input: cpioArchive,
  expected: (b) => {
    const text = new TextDecoder().decode(b);
    let at = 0;
    let total = 0;
    let count = 0;
    for (;;) {
      const filesize = Number.parseInt(text.slice(at + 54, at + 62), 16);
      const namesize = Number.parseInt(text.slice(at + 94, at + 102), 16);
      total += filesize;
      count++;
      at = pad4(at + 110 + namesize) + pad4(filesize);
      if (filesize === 0 && namesize === 11) break;
    }
    return BigInt(total) | (BigInt(count) << 32n);
  },
};

export const BENCH_PROGRAMS: readonly BenchProgram[] = [checksum, crc32, fnv1a, sort, peScan, cpioWalk];
