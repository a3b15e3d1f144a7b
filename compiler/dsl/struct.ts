/**
 * Declared struct layouts read by field name: `const SectionHeader = struct({ name: 8, virtualSize:
 * 'u32', ... })`. Fields are laid out in declaration order without padding, as on-disk formats (PE,
 * cpio, zboot) define them; a number declares a byte array, read as a `Bytes` sub-view.
 * `SectionHeader.at(buf, off)` checks that the whole struct lies inside `buf` (one bounds check) and
 * returns a view whose fields are read when used.
 */
import { Bytes } from './bytes.ts';
import type { i8, i16, i32, i64, u8, u16, u32, u64 } from './ints.ts';

export type ScalarField = 'u8' | 'u16' | 'u32' | 'u64' | 'i8' | 'i16' | 'i32' | 'i64';
export type FieldDecl = ScalarField | number;

type FieldValue<F> = F extends 'u8'
  ? u8
  : F extends 'u16'
    ? u16
    : F extends 'u32'
      ? u32
      : F extends 'i8'
        ? i8
        : F extends 'i16'
          ? i16
          : F extends 'i32'
            ? i32
            : F extends 'u64'
              ? u64
              : F extends 'i64'
                ? i64
                : Bytes;

export type StructView<F extends Record<string, FieldDecl>> = { readonly [K in keyof F]: FieldValue<F[K]> };

export const SCALAR_WIDTH: Readonly<Record<ScalarField, number>> = {
  u8: 1,
  u16: 2,
  u32: 4,
  u64: 8,
  i8: 1,
  i16: 2,
  i32: 4,
  i64: 8,
};

export interface FieldLayout {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  /** Scalar type, or undefined for a byte array. */
  readonly scalar: ScalarField | undefined;
}

/** Offsets of the fields, in order (shared by the native views and the compiler). */
export const layoutFields = (fields: Readonly<Record<string, FieldDecl>>): FieldLayout[] => {
  let offset = 0;
  return Object.entries(fields).map(([name, decl]) => {
    const scalar = typeof decl === 'number' ? undefined : decl;
    const size = scalar === undefined ? (decl as number) : SCALAR_WIDTH[scalar];
    const f = { name, offset, size, scalar };
    offset += size;
    return f;
  });
};

export class Struct<F extends Record<string, FieldDecl>> {
  readonly fields: readonly FieldLayout[];
  /** Size in bytes. */
  readonly size: u32;

  constructor(fields: F) {
    this.fields = layoutFields(fields);
    const last = this.fields[this.fields.length - 1];
    this.size = last === undefined ? 0 : last.offset + last.size;
  }

  /** The struct at `off` in `buf`. */
  at(buf: Bytes, off: u32): StructView<F> {
    const view = buf.sub(off, this.size);
    const out: Record<string, unknown> = {};
    for (const f of this.fields) {
      Object.defineProperty(out, f.name, {
        enumerable: true,
        get: () => (f.scalar === undefined ? view.sub(f.offset, f.size) : view[f.scalar](f.offset)),
      });
    }
    return out as StructView<F>;
  }
}

export const struct = <const F extends Record<string, FieldDecl>>(fields: F): Struct<F> => new Struct(fields);

/** Byte offset of a field (for code that computes addresses of following records). */
export const offsetOf = <F extends Record<string, FieldDecl>>(s: Struct<F>, field: keyof F & string): u32 => {
  const f = s.fields.find((x) => x.name === field);
  if (f === undefined) throw new Error(`struct has no field ${field}`);
  return f.offset;
};

export { Bytes };
