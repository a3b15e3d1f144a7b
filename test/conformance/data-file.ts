/**
 * Parser of the bpf_conformance `.data` test format, with the reference parser's rules
 * (`lib/src/bpf_test_parser.cc`):
 * - a trailing `\r` is dropped and `#` starts a comment anywhere on a line;
 * - a line containing `--` switches section by substring, tested in this order: `asm`, `result`,
 *   `mem`, `raw`, `no register offset` (ignored), ` c` (ignored prose), `error`; any other
 *   directive makes the reference skip the whole file;
 * - empty lines are ignored; `-- result` and `-- error` keep their last line;
 * - `-- mem` is hex bytes separated by any whitespace;
 * - `-- raw` is 64-bit instruction words (`0x…` hex or decimal, the wire bytes read as one
 *   little-endian integer). The `negative/unused-*` files instead write 8 space-separated hex bytes
 *   per line (which the reference would misread as one decimal word per byte); a section whose
 *   every line is 8 two-digit hex bytes is read as bytes;
 * - a file with neither result nor error is skipped by the reference.
 * Deviation: the reference stops silently at the first malformed number; here it is a DataFileError.
 */

/** A malformed number in a `.data` file. */
export class DataFileError extends Error {
  override readonly name = 'DataFileError';
  readonly line: number;
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.line = line;
  }
}

export interface AsmSection {
  /**
   * The assembly, line-aligned with the file: line N of this text is line N of the file, with
   * everything that is not assembly (other sections, comments) blanked, so assembler diagnostics
   * point into the `.data` file.
   */
  readonly text: string;
  /** File line of the `-- asm` directive. */
  readonly line: number;
}

export interface RawSection {
  /** How the section was written. */
  readonly format: 'words' | 'bytes';
  /** The program's wire bytes (little-endian encoding). */
  readonly bytes: Uint8Array;
  readonly line: number;
}

export interface DataFile {
  readonly asm: AsmSection | undefined;
  /** When present, the reference runs this and ignores `asm`. */
  readonly raw: RawSection | undefined;
  /** Input memory (`-- mem`), undefined when the file has none (or an empty section, as the reference). */
  readonly mem: Uint8Array | undefined;
  /** Expected R0 as an unsigned 64-bit value. */
  readonly result: bigint | undefined;
  /** Expected error text (the last line of `-- error`); '' if the section is present but empty. */
  readonly error: string | undefined;
  /**
   * Why the reference runner would skip this file before looking at its instructions (unknown
   * directive, no result and no error); undefined if it would not.
   */
  readonly skip: string | undefined;
}

type Section = 'ignore' | 'asm' | 'raw' | 'result' | 'mem' | 'error';

/** The section a directive line selects, by the reference's substring tests; undefined = unknown. */
const directive = (line: string): Section | undefined => {
  if (line.includes('asm')) return 'asm';
  if (line.includes('result')) return 'result';
  if (line.includes('mem')) return 'mem';
  if (line.includes('raw')) return 'raw';
  if (line.includes('no register offset')) return 'ignore';
  if (line.includes(' c')) return 'ignore';
  if (line.includes('error')) return 'error';
  return undefined;
};

const HEX_BYTE = /^[0-9a-fA-F]{2}$/;
const WORD = /^(?:0x([0-9a-fA-F]+)|([0-9]+))$/;
const U64_MAX = (1n << 64n) - 1n;

interface Collected {
  readonly text: string;
  readonly line: number;
}

const words = (lines: readonly Collected[]): Collected[] =>
  lines.flatMap((l) =>
    l.text
      .trim()
      .split(/\s+/)
      .filter((w) => w !== '')
      .map((text) => ({ text, line: l.line })),
  );

const parseRaw = (lines: readonly Collected[], line: number): RawSection => {
  const isByteLine = (l: Collected): boolean => {
    const ws = l.text.trim().split(/\s+/);
    return ws.length === 8 && ws.every((w) => HEX_BYTE.test(w));
  };
  if (lines.every(isByteLine)) {
    return { format: 'bytes', bytes: Uint8Array.from(words(lines), (w) => Number.parseInt(w.text, 16)), line };
  }
  const ws = words(lines);
  const bytes = new Uint8Array(ws.length * 8);
  const view = new DataView(bytes.buffer);
  ws.forEach((w, i) => {
    const m = WORD.exec(w.text);
    const value = m === null ? undefined : BigInt(m[1] !== undefined ? `0x${m[1]}` : (m[2] as string));
    if (value === undefined || value > U64_MAX) {
      throw new DataFileError(w.line, `raw instruction is not a 64-bit number: ${w.text}`);
    }
    view.setBigUint64(i * 8, value, true);
  });
  return { format: 'words', bytes, line };
};

const parseMem = (lines: readonly Collected[]): Uint8Array =>
  Uint8Array.from(words(lines), (w) => {
    const m = /^(?:0[xX])?([0-9a-fA-F]{1,2})$/.exec(w.text);
    if (m === null) throw new DataFileError(w.line, `memory byte is not 1-2 hex digits: ${w.text}`);
    return Number.parseInt(m[1] as string, 16);
  });

/** The reference reads the result with strtoull: hex if it contains `0x`, else decimal; `-` wraps. */
const parseResult = (r: Collected): bigint => {
  const t = r.text.trim();
  const m = /^(-?)(?:0x([0-9a-fA-F]+)|([0-9]+))$/.exec(t);
  const magnitude = m === null ? undefined : BigInt(m[2] !== undefined ? `0x${m[2]}` : (m[3] as string));
  if (m === null || magnitude === undefined || magnitude > U64_MAX) {
    throw new DataFileError(r.line, `result is not a 64-bit number: ${t}`);
  }
  return BigInt.asUintN(64, m[1] === '-' ? -magnitude : magnitude);
};

/** Parses a `.data` file's text. Throws DataFileError for malformed numbers. */
export const parseDataFile = (text: string): DataFile => {
  const asmLines: string[] = [];
  const raw: Collected[] = [];
  const mem: Collected[] = [];
  let asmLine: number | undefined;
  let rawLine: number | undefined;
  let result: Collected | undefined;
  let error: string | undefined;
  let section: Section = 'ignore';
  let skip: string | undefined;

  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = lines[i] as string;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const hash = line.indexOf('#');
    if (hash >= 0) line = line.slice(0, hash);
    asmLines.push('');
    if (line.includes('--')) {
      const next = directive(line);
      if (next === undefined) {
        skip = `unknown directive '${line.trim()}' at line ${lineNo}`;
        break;
      }
      section = next;
      if (next === 'asm') asmLine ??= lineNo;
      if (next === 'raw') rawLine ??= lineNo;
      if (next === 'error') error ??= '';
      continue;
    }
    if (line.trim() === '') continue;
    const at = { text: line, line: lineNo };
    switch (section) {
      case 'asm':
        asmLines[i] = line;
        break;
      case 'raw':
        raw.push(at);
        break;
      case 'mem':
        mem.push(at);
        break;
      case 'result':
        result = at;
        break;
      case 'error':
        error = line;
        break;
      default:
        break;
    }
  }

  if (skip === undefined && !error && result === undefined) skip = 'no result or error';
  return {
    asm: asmLine === undefined ? undefined : { text: asmLines.join('\n'), line: asmLine },
    raw: raw.length === 0 ? undefined : parseRaw(raw, rawLine as number),
    mem: mem.length === 0 ? undefined : parseMem(mem),
    result: result === undefined ? undefined : parseResult(result),
    error,
    skip,
  };
};
