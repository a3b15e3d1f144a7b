/**
 * .BTF.ext: per-section func_info, line_info and CO-RE relocation records. Instruction offsets
 * are byte offsets inside the named ELF section (libbpf divides by 8 when it loads a program).
 * Strings (section names, file names, source lines, access strings) live in the .BTF string table.
 */
import { BtfError } from './errors.ts';
import {
  BTF_EXT_HEADER_CORE,
  BTF_EXT_HEADER_MIN,
  BTF_MAGIC,
  BTF_VERSION,
  CORE_RELO_BYTES,
  FUNC_INFO_BYTES,
  LINE_COL_BITS,
  LINE_INFO_BYTES,
} from './kinds.ts';
import type { StringTableBuilder } from './strings.ts';

export interface FuncInfoRecord {
  /** Byte offset of the function's first instruction in its section. */
  readonly insnOff: number;
  /** The BTF FUNC type. */
  readonly typeId: number;
}
export interface LineInfoRecord {
  readonly insnOff: number;
  readonly file: string;
  /** The source line's text (may be ""). */
  readonly text: string;
  readonly line: number;
  readonly col: number;
}
export interface CoreReloRecord {
  readonly insnOff: number;
  /** The root type of the access. */
  readonly typeId: number;
  /** Access string, e.g. "0:1:2" (member indices). */
  readonly access: string;
  /** CORE_RELO_KIND_NAMES index. */
  readonly kind: number;
}
export interface BtfExtSection<R> {
  /** ELF section the offsets point into. */
  readonly section: string;
  readonly records: readonly R[];
}
export interface BtfExt {
  readonly funcInfo: readonly BtfExtSection<FuncInfoRecord>[];
  readonly lineInfo: readonly BtfExtSection<LineInfoRecord>[];
  readonly coreRelos: readonly BtfExtSection<CoreReloRecord>[];
}

type StringAt = (off: number, at: number) => string;

const decodeSubsection = <R>(
  view: DataView,
  le: boolean,
  start: number,
  len: number,
  minRec: number,
  what: string,
  strAt: StringAt,
  record: (at: number) => R,
): BtfExtSection<R>[] => {
  if (len === 0) return [];
  const end = start + len;
  if (end > view.byteLength) throw new BtfError('BTF_TRUNCATED', start, `${what} runs past the section`);
  if (len < 4) throw new BtfError('BTF_TRUNCATED', start, `${what} has no record size`);
  const recSize = view.getUint32(start, le);
  if (recSize < minRec || recSize % 4 !== 0) {
    throw new BtfError('BTF_BAD_EXT', start, `${what} record size ${recSize} invalid (minimum ${minRec})`);
  }
  const out: BtfExtSection<R>[] = [];
  for (let at = start + 4; at < end; ) {
    if (at + 8 > end) throw new BtfError('BTF_TRUNCATED', at, `${what} section header runs past its area`);
    const section = strAt(view.getUint32(at, le), at);
    const count = view.getUint32(at + 4, le);
    if (count === 0) throw new BtfError('BTF_BAD_EXT', at + 4, `${what} section '${section}' has no records`);
    const body = at + 8;
    if (count > (end - body) / recSize) {
      throw new BtfError('BTF_TRUNCATED', at + 4, `${what} section '${section}': ${count} records run past its area`);
    }
    const records: R[] = [];
    for (let i = 0; i < count; i++) records.push(record(body + i * recSize));
    out.push({ section, records });
    at = body + count * recSize;
  }
  return out;
};

/** Decodes .BTF.ext; `strAt` reads the .BTF string table. Byte order from the magic. */
export const decodeBtfExt = (bytes: Uint8Array, strAt: StringAt): BtfExt => {
  if (bytes.length < BTF_EXT_HEADER_MIN) throw new BtfError('BTF_TRUNCATED', 0, '.BTF.ext shorter than its header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = view.getUint16(0, true) === BTF_MAGIC ? true : view.getUint16(0, false) === BTF_MAGIC ? false : undefined;
  if (le === undefined) throw new BtfError('BTF_BAD_HEADER', 0, 'no .BTF.ext magic 0xeb9f');
  if (view.getUint8(2) !== BTF_VERSION)
    throw new BtfError('BTF_BAD_HEADER', 2, `unsupported version ${view.getUint8(2)}`);
  if (view.getUint8(3) !== 0) throw new BtfError('BTF_BAD_HEADER', 3, `unsupported flags ${view.getUint8(3)}`);
  const hdrLen = view.getUint32(4, le);
  if (hdrLen < BTF_EXT_HEADER_MIN || hdrLen > bytes.length) {
    throw new BtfError('BTF_BAD_HEADER', 4, `header length ${hdrLen} out of range`);
  }
  const area = (offField: number): [number, number] => {
    const off = view.getUint32(offField, le);
    const len = view.getUint32(offField + 4, le);
    if (hdrLen + off + len > bytes.length) {
      throw new BtfError(
        'BTF_TRUNCATED',
        offField,
        `area [${hdrLen + off}, +${len}) past the section (${bytes.length})`,
      );
    }
    return [hdrLen + off, len];
  };
  const [fStart, fLen] = area(8);
  const [lStart, lLen] = area(16);
  const [cStart, cLen] = hdrLen >= BTF_EXT_HEADER_CORE ? area(24) : [0, 0];
  const u32 = (at: number): number => view.getUint32(at, le);
  return {
    funcInfo: decodeSubsection(view, le, fStart, fLen, FUNC_INFO_BYTES, 'func_info', strAt, (at) => ({
      insnOff: u32(at),
      typeId: u32(at + 4),
    })),
    lineInfo: decodeSubsection(view, le, lStart, lLen, LINE_INFO_BYTES, 'line_info', strAt, (at) => {
      const lineCol = u32(at + 12);
      return {
        insnOff: u32(at),
        file: strAt(u32(at + 4), at + 4),
        text: strAt(u32(at + 8), at + 8),
        line: lineCol >>> LINE_COL_BITS,
        col: lineCol & ((1 << LINE_COL_BITS) - 1),
      };
    }),
    coreRelos: decodeSubsection(view, le, cStart, cLen, CORE_RELO_BYTES, 'core_relo', strAt, (at) => ({
      insnOff: u32(at),
      typeId: u32(at + 4),
      access: strAt(u32(at + 8), at + 8),
      kind: u32(at + 12),
    })),
  };
};

const encodeSubsection = <R>(
  sections: readonly BtfExtSection<R>[],
  recSize: number,
  strings: StringTableBuilder,
  words: (r: R) => number[],
): number[] => {
  const live = sections.filter((s) => s.records.length > 0);
  if (live.length === 0) return [];
  const out = [recSize];
  for (const s of live) {
    out.push(strings.add(s.section), s.records.length);
    for (const r of s.records) for (const w of words(r)) out.push(w);
  }
  return out;
};

const checkLine = (r: LineInfoRecord): number => {
  if (r.col >= 1 << LINE_COL_BITS || r.line >= 1 << (32 - LINE_COL_BITS) || r.line < 0 || r.col < 0) {
    throw new BtfError('BTF_UNENCODABLE', 0, `line ${r.line} col ${r.col} does not fit line<<10|col`);
  }
  return ((r.line << LINE_COL_BITS) | r.col) >>> 0;
};

/** Encodes .BTF.ext, adding its strings to `strings` (encode .BTF with the same builder afterwards). */
export const encodeBtfExt = (ext: BtfExt, order: 'le' | 'be', strings: StringTableBuilder): Uint8Array => {
  const f = encodeSubsection(ext.funcInfo, FUNC_INFO_BYTES, strings, (r) => [r.insnOff, r.typeId]);
  const l = encodeSubsection(ext.lineInfo, LINE_INFO_BYTES, strings, (r) => [
    r.insnOff,
    strings.add(r.file),
    strings.add(r.text),
    checkLine(r),
  ]);
  const c = encodeSubsection(ext.coreRelos, CORE_RELO_BYTES, strings, (r) => [
    r.insnOff,
    r.typeId,
    strings.add(r.access),
    r.kind,
  ]);
  const le = order === 'le';
  const body = [...f, ...l, ...c];
  const out = new Uint8Array(BTF_EXT_HEADER_CORE + body.length * 4);
  const view = new DataView(out.buffer);
  view.setUint16(0, BTF_MAGIC, le);
  view.setUint8(2, BTF_VERSION);
  view.setUint32(4, BTF_EXT_HEADER_CORE, le);
  view.setUint32(8, 0, le);
  view.setUint32(12, f.length * 4, le);
  view.setUint32(16, f.length * 4, le);
  view.setUint32(20, l.length * 4, le);
  view.setUint32(24, (f.length + l.length) * 4, le);
  view.setUint32(28, c.length * 4, le);
  body.forEach((w, i) => {
    view.setUint32(BTF_EXT_HEADER_CORE + i * 4, w >>> 0, le);
  });
  return out;
};
