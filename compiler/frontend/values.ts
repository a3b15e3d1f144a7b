/** What an expression evaluates to during lowering. */
import type { FieldLayout } from '../dsl/struct.ts';
import type { IntType, Range } from '../ir/range.ts';
import type { VReg } from '../ir/ir.ts';

export interface MapInfo {
  readonly name: string;
  readonly kind: 'array' | 'hash' | 'ringbuf';
  /** BPF_MAP_TYPE id. */
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
}

/** A reserved ring-buffer record, tracked until it is submitted or discarded. */
export interface Ref {
  readonly id: number;
  readonly name: string;
  readonly start: number;
  readonly end: number;
  readonly reg: VReg;
}

export type Value =
  /** An integer: constant (`value`) or in `reg`; `big` for bigint-typed values. */
  | {
      readonly kind: 'int';
      readonly reg?: VReg;
      readonly value?: bigint;
      readonly range: Range;
      readonly big: boolean;
      /** For `x + k` (k a small constant): x and k, so an access at `x + k` can put k in the offset field. */
      readonly sum?: { readonly x: IntValueOf; readonly k: number };
    }
  | { readonly kind: 'bool'; readonly reg?: VReg; readonly value?: boolean }
  /**
   * A view of `size` bytes at `reg`; with `len`, a view whose length is that run-time value (at most
   * `size`, the bound the verifier checks accesses against; the DSL's semantics check against `len`).
   */
  | { readonly kind: 'ptr'; readonly reg: VReg; readonly size: number; readonly ref?: Ref; readonly len?: IntValueOf }
  | { readonly kind: 'struct'; readonly reg: VReg; readonly fields: readonly FieldLayout[] }
  | { readonly kind: 'structdef'; readonly fields: readonly FieldLayout[]; readonly size: number }
  | { readonly kind: 'map'; readonly map: MapInfo }
  /** A constant table in .rodata: `length` entries of `elem` at `offset`. */
  | { readonly kind: 'table'; readonly offset: number; readonly elem: IntType; readonly length: number }
  | { readonly kind: 'ctx'; readonly reg: VReg }
  | { readonly kind: 'string'; readonly text: string }
  | { readonly kind: 'null' }
  | { readonly kind: 'void' }
  /** After a diagnostic: silences follow-up errors. */
  | { readonly kind: 'error' };

export type IntValue = Extract<Value, { kind: 'int' }>;
type IntValueOf = IntValue;

export const ERROR: Value = { kind: 'error' };
export const VOID: Value = { kind: 'void' };

/** A local binding. */
export type Binding =
  | { readonly kind: 'var'; readonly reg: VReg; readonly type: IntType; range: Range; readonly name: string }
  | { readonly kind: 'boolvar'; readonly reg: VReg; readonly name: string }
  | { readonly kind: 'value'; readonly value: Value };
