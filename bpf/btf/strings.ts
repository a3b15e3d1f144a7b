/** BTF string sections: NUL-terminated strings addressed by byte offset; offset 0 is "". */
import { BtfError } from './errors.ts';

const utf8 = new TextDecoder('utf-8');
const encoder = new TextEncoder();

/** Decodes bytes [start, end) as UTF-8, with a fast path for the ASCII names objects are made of. */
export const decodeName = (bytes: Uint8Array, start: number, end: number): string => {
  let s = '';
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (c >= 0x80) return utf8.decode(bytes.subarray(start, end));
    s += String.fromCharCode(c);
  }
  return s;
};

/** Reads strings out of a string section, checking every offset. */
export class StringSection {
  private readonly cache = new Map<number, string>();
  private readonly bytes: Uint8Array;
  /** Offset of the string section inside the enclosing section, for error offsets. */
  private readonly base: number;
  constructor(bytes: Uint8Array, base: number) {
    this.bytes = bytes;
    this.base = base;
  }

  get length(): number {
    return this.bytes.length;
  }

  /** The string at `off`; `at` is the offset of the field that holds `off` (for the error). */
  get(off: number, at: number): string {
    const hit = this.cache.get(off);
    if (hit !== undefined) return hit;
    if (off >= this.bytes.length) {
      throw new BtfError('BTF_BAD_STRING', at, `string offset ${off} past the string section (${this.bytes.length})`);
    }
    const end = this.bytes.indexOf(0, off);
    if (end < 0) throw new BtfError('BTF_BAD_STRING', this.base + off, `string at ${off} has no terminating NUL`);
    const s = decodeName(this.bytes, off, end);
    this.cache.set(off, s);
    return s;
  }
}

/** Builds a string section, each distinct string stored once; "" is offset 0. */
export class StringTableBuilder {
  private readonly offsets = new Map<string, number>([['', 0]]);
  private readonly strings: string[] = [];
  private size = 1;

  add(s: string): number {
    const known = this.offsets.get(s);
    if (known !== undefined) return known;
    if (s.includes('\0')) throw new BtfError('BTF_UNENCODABLE', 0, `string ${JSON.stringify(s)} contains NUL`);
    const length = /^[\x00-\x7f]*$/.test(s) ? s.length : encoder.encode(s).length;
    const off = this.size;
    this.strings.push(s);
    this.size += length + 1;
    this.offsets.set(s, off);
    return off;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 1;
    for (const s of this.strings) {
      at += encoder.encodeInto(s, out.subarray(at)).written + 1;
    }
    return out;
  }
}
