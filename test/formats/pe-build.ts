/**
 * Builds small PE images for tests, field by field from the PE spec (independently of formats/pe's
 * writer), so the reader and the signing tools can be exercised on layouts we control.
 */
import { peChecksum } from '../../formats/pe/index.ts';

export interface BuildSection {
  readonly name: string;
  readonly data: Uint8Array;
  readonly characteristics?: number;
  /** Default: data length. */
  readonly virtualSize?: number;
}

export interface BuildOptions {
  readonly format?: 'PE32' | 'PE32+';
  readonly sections?: readonly BuildSection[];
  readonly fileAlignment?: number;
  readonly sectionAlignment?: number;
  /** Default: the headers rounded up to FileAlignment. */
  readonly sizeOfHeaders?: number;
  readonly dataDirectories?: number;
  /** Bytes after the last section (e.g. a COFF symbol table). */
  readonly trailing?: Uint8Array;
  /** PointerToSymbolTable / NumberOfSymbols to store (e.g. pointing at `trailing`). */
  readonly symbols?: { readonly pointer: number; readonly count: number };
  readonly eLfanew?: number;
  /** Write an EFI zboot header ('zimg', payload offset and size) in the DOS header. */
  readonly zboot?: { readonly payloadOffset: number; readonly payloadSize: number };
}

export interface BuiltPe {
  readonly bytes: Uint8Array;
  /** Useful file offsets of what was built. */
  readonly at: {
    readonly coff: number;
    readonly optional: number;
    readonly dataDirectories: number;
    readonly sectionTable: number;
    readonly sections: readonly { readonly header: number; readonly raw: number; readonly va: number }[];
    readonly trailing: number;
  };
}

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

export const buildPe = (o: BuildOptions = {}): BuiltPe => {
  const pe32plus = (o.format ?? 'PE32+') === 'PE32+';
  const fa = o.fileAlignment ?? 0x200;
  const sa = o.sectionAlignment ?? 0x1000;
  const nd = o.dataDirectories ?? 16;
  const sections = o.sections ?? [
    { name: '.text', data: new Uint8Array(0x300).fill(0xc3), characteristics: 0x60000020 },
    { name: '.data', data: new Uint8Array(0x120).map((_, i) => i & 0xff), characteristics: 0xc0000040 },
  ];
  const lfanew = o.eLfanew ?? 0x80;
  const coff = lfanew + 4;
  const optional = coff + 20;
  const fixed = pe32plus ? 112 : 96;
  const sizeOfOptional = fixed + 8 * nd;
  const sectionTable = optional + sizeOfOptional;
  const headersEnd = sectionTable + 40 * sections.length;
  const sizeOfHeaders = o.sizeOfHeaders ?? alignUp(headersEnd, fa);
  let va = alignUp(sizeOfHeaders, sa);
  let raw = sizeOfHeaders;
  const placed = sections.map((s, i) => {
    const rawSize = alignUp(s.data.length, fa);
    const p = { header: sectionTable + 40 * i, raw, va, rawSize, s };
    raw += rawSize;
    va = alignUp(va + (s.virtualSize ?? s.data.length), sa);
    return p;
  });
  const trailingAt = raw;
  const total = raw + (o.trailing?.length ?? 0);
  const b = new Uint8Array(total);
  const dv = new DataView(b.buffer);
  b[0] = 0x4d;
  b[1] = 0x5a;
  if (o.zboot) {
    b.set([0x7a, 0x69, 0x6d, 0x67], 4);
    dv.setUint32(8, o.zboot.payloadOffset, true);
    dv.setUint32(12, o.zboot.payloadSize, true);
  }
  dv.setUint32(0x3c, lfanew, true);
  b.set([0x50, 0x45, 0, 0], lfanew);
  dv.setUint16(coff, 0x8664, true);
  dv.setUint16(coff + 2, sections.length, true);
  dv.setUint32(coff + 8, o.symbols?.pointer ?? 0, true);
  dv.setUint32(coff + 12, o.symbols?.count ?? 0, true);
  dv.setUint16(coff + 16, sizeOfOptional, true);
  dv.setUint16(coff + 18, 0x206, true);
  dv.setUint16(optional, pe32plus ? 0x20b : 0x10b, true);
  const code = placed.filter((p) => (p.s.characteristics ?? 0x40000040) & 0x20);
  dv.setUint32(
    optional + 4,
    code.reduce((n, p) => n + p.rawSize, 0),
    true,
  );
  dv.setUint32(optional + 8, placed.reduce((n, p) => n + p.rawSize, 0) - code.reduce((n, p) => n + p.rawSize, 0), true);
  dv.setUint32(optional + 16, placed[0]?.va ?? 0, true);
  dv.setUint32(optional + 20, placed[0]?.va ?? 0, true);
  dv.setUint32(optional + 32, sa, true);
  dv.setUint32(optional + 36, fa, true);
  dv.setUint32(optional + 56, alignUp(va, sa), true);
  dv.setUint32(optional + 60, sizeOfHeaders, true);
  dv.setUint16(optional + 68, 10, true);
  dv.setUint32(optional + (pe32plus ? 108 : 92), nd, true);
  for (const p of placed) {
    b.set(new TextEncoder().encode(p.s.name).subarray(0, 8), p.header);
    dv.setUint32(p.header + 8, p.s.virtualSize ?? p.s.data.length, true);
    dv.setUint32(p.header + 12, p.va, true);
    dv.setUint32(p.header + 16, p.rawSize, true);
    dv.setUint32(p.header + 20, p.raw, true);
    dv.setUint32(p.header + 36, p.s.characteristics ?? 0x40000040, true);
    b.set(p.s.data, p.raw);
  }
  if (o.trailing) b.set(o.trailing, trailingAt);
  dv.setUint32(optional + 64, peChecksum(b, optional + 64), true);
  return {
    bytes: b,
    at: {
      coff,
      optional,
      dataDirectories: optional + fixed,
      sectionTable,
      sections: placed.map((p) => ({ header: p.header, raw: p.raw, va: p.va })),
      trailing: trailingAt,
    },
  };
};

/** A COFF symbol table of `count` zeroed records followed by a string table holding `strings`. */
export const coffSymbols = (count: number, strings: readonly string[]): Uint8Array => {
  const text = new TextEncoder().encode(strings.map((s) => `${s}\0`).join(''));
  const out = new Uint8Array(count * 18 + 4 + text.length);
  new DataView(out.buffer).setUint32(count * 18, 4 + text.length, true);
  out.set(text, count * 18 + 4);
  return out;
};

/** Little-endian field patching on a copy. */
export const patched = (
  bytes: Uint8Array,
  edits: readonly [offset: number, size: 1 | 2 | 4, value: number][],
): Uint8Array => {
  const out = bytes.slice();
  const dv = new DataView(out.buffer);
  for (const [at, size, v] of edits) {
    if (size === 1) dv.setUint8(at, v);
    else if (size === 2) dv.setUint16(at, v, true);
    else dv.setUint32(at, v >>> 0, true);
  }
  return out;
};
