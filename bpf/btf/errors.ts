/** Typed errors of the BTF layer. `offset` is a byte offset inside the .BTF / .BTF.ext section. */

export type BtfErrorCode =
  /** a header, type record, string or info record runs past its section */
  | 'BTF_TRUNCATED'
  /** magic, version, flags or header length not understood */
  | 'BTF_BAD_HEADER'
  /** a kind number that is no BTF kind, or bits a kind does not use are set */
  | 'BTF_BAD_KIND'
  /** a type id referencing past the last type */
  | 'BTF_BAD_TYPE_ID'
  /** a string offset outside the string section, or a string without its NUL */
  | 'BTF_BAD_STRING'
  /** a cycle through types that need a size (only pointers may close a cycle) */
  | 'BTF_LOOP'
  /** a .BTF.ext record that is inconsistent (record size, section name, offsets) */
  | 'BTF_BAD_EXT'
  /** a value the encoder cannot represent (too many members, a number out of range) */
  | 'BTF_UNENCODABLE';

export class BtfError extends Error {
  override readonly name = 'BtfError';
  readonly code: BtfErrorCode;
  /** Byte offset in the section where the problem is. */
  readonly offset: number;
  readonly detail: string;
  constructor(code: BtfErrorCode, offset: number, detail: string) {
    super(`BTF offset ${offset}: ${detail}`);
    this.code = code;
    this.offset = offset;
    this.detail = detail;
  }
}
