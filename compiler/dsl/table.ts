/**
 * Constant tables: `const CRC = table('u32', [0x00000000, 0x77073096, ...])` at module level. Compiled,
 * the values are placed in `.rodata` (read-only, frozen) and `CRC.at(i)` is a bounds-checked load;
 * natively `at` reads the array and an index outside it is a `BoundsFault`, as the compiled check.
 */
import { BoundsFault } from './bytes.ts';
import type { u32 } from './ints.ts';

export type TableType = 'u8' | 'u16' | 'u32' | 'i8' | 'i16' | 'i32';

export const TABLE_WIDTH: Readonly<Record<TableType, number>> = { u8: 1, u16: 2, u32: 4, i8: 1, i16: 2, i32: 4 };

export class Table {
  readonly type: TableType;
  readonly #values: readonly number[];
  constructor(type: TableType, values: readonly number[]) {
    this.type = type;
    this.#values = values;
  }
  /** Number of entries (a constant for the compiler). */
  get length(): u32 {
    return this.#values.length;
  }
  /** Entry i; outside the table, a fault (the program returns its fault value). */
  at(i: u32): number {
    const w = TABLE_WIDTH[this.type];
    const v = this.#values[i];
    if (!Number.isSafeInteger(i) || i < 0 || v === undefined) throw new BoundsFault(i * w, w, this.#values.length * w);
    return v;
  }
}

/** A table of integers of one type (each value must fit it; the compiler checks). */
export const table = (type: TableType, values: readonly number[]): Table => new Table(type, values);
