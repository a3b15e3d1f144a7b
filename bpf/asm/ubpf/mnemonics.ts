/**
 * The conformance/uBPF spellings of the opcode table's rows. Nothing here lists opcodes: every map
 * is built from OPCODES. Row names are uBPF mnemonics for all plain instructions; the rows that this
 * syntax spells differently are atomics (`lock [fetch] <op>[32]`), calls (`call [helper|local|runtime]
 * N`, `call %rN`) and the alias `swapN` of `bswapN`.
 */
import { AtomicOp, OPCODES, type OpSpec } from '../../isa/index.ts';

/** The rows a mnemonic can assemble to: one, or a K and an X form chosen by the last operand. */
export interface MnemonicRows {
  readonly K?: OpSpec;
  readonly X?: OpSpec;
  /** Rows without a K/X choice (source undefined, or a form that exists with one source only). */
  readonly only?: OpSpec;
}

/** Rows spelled by their own name: everything but atomics and calls. */
const isPlain = (spec: OpSpec): boolean => spec.kind !== 'atomic' && spec.kind !== 'call' && spec.kind !== 'callx';

const build = (): ReadonlyMap<string, MnemonicRows> => {
  const grouped = new Map<string, OpSpec[]>();
  const put = (name: string, spec: OpSpec): void => {
    const list = grouped.get(name);
    if (list) list.push(spec);
    else grouped.set(name, [spec]);
  };
  for (const spec of OPCODES) {
    if (!isPlain(spec)) continue;
    put(spec.name, spec);
    // The reference assembler also spells the ALU64 byte swap `swap16/32/64`.
    if (spec.kind === 'end' && spec.op === 'bswap') put(spec.name.slice(1), spec);
  }
  const out = new Map<string, MnemonicRows>();
  for (const [name, specs] of grouped) {
    const K = specs.find((s) => s.source === 'K');
    const X = specs.find((s) => s.source === 'X');
    out.set(name, specs.length === 1 ? { only: specs[0] as OpSpec } : ({ K, X } as MnemonicRows));
  }
  return out;
};

/** Mnemonic → rows, for every instruction written as `<mnemonic> operands`. */
export const MNEMONICS: ReadonlyMap<string, MnemonicRows> = build();

/** The words after `lock` for an atomic row: `lock_fetch_add32` → `fetch add32`. */
export const atomicWords = (spec: OpSpec): string => spec.name.replace(/^lock_/, '').replace('_', ' ');

/** `[fetch ]<op>[32]` → atomic row. */
export const ATOMICS: ReadonlyMap<string, OpSpec> = new Map(
  OPCODES.filter((s) => s.kind === 'atomic').map((s) => [atomicWords(s), s] as const),
);

/** True if the row's operation always fetches (xchg, cmpxchg), so a redundant `fetch` is accepted. */
export const alwaysFetches = (spec: OpSpec): boolean =>
  spec.match !== undefined && (spec.match.value & AtomicOp.FETCH) !== 0 && !spec.op.startsWith('fetch_');

/** The mode word of a call row: `helper`, `local`, or `runtime` for a kfunc (BTF id) call. */
export const callMode = (spec: OpSpec): string => (spec.op === 'kfunc' ? 'runtime' : spec.op);

/** Call mode word → call row. */
export const CALL_MODES: ReadonlyMap<string, OpSpec> = new Map(
  OPCODES.filter((s) => s.kind === 'call').map((s) => [callMode(s), s] as const),
);

/** The register-call row (callx). */
export const CALLX: OpSpec = (() => {
  const row = OPCODES.find((s) => s.kind === 'callx');
  if (row === undefined) throw new Error('opcode table has no callx row');
  return row;
})();
