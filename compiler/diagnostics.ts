/**
 * The compiler's diagnostics: one numbered table of messages with `{0}` placeholders, a collector the
 * passes write to (they keep going after an error), and the `file:line:col: error DSLnnnn: message`
 * rendering. Codes are stable: tests and users match on them, not on the text.
 */

export const MESSAGES = {
  TYPE_ERROR: { code: 1000, text: '{0}' },
  UNSUPPORTED: { code: 1001, text: '{0} is not supported by the DSL' },
  UNBOUNDED_LOOP: {
    code: 1002,
    text: 'cannot prove this loop ends: {0}; write `for (let i: u32 = 0; i < N; i++)` (or a `while`/`do` whose last statement is `i++`) with a constant or bounded N (add `&& i < n` to stop earlier) and use `break` for other exits',
  },
  UNCHECKED_NULL: { code: 1003, text: '{0} may be null here: check it first (`if (x === null) return ...`)' },
  RECORD_LEAK: {
    code: 1004,
    text: 'ring-buffer record `{0}` is not submitted or discarded on {1}; call {0}.submit() or {0}.discard() on every path',
  },
  POINTER_ESCAPE: { code: 1005, text: 'a pointer cannot become an integer or be compared: {0}' },
  RANGE: { code: 1006, text: '{0} has range {1}, which does not fit {2}; wrap it explicitly: `{3}`' },
  NOT_CONSTANT: { code: 1007, text: '{0} must be a compile-time constant' },
  UNKNOWN_CALL: { code: 1008, text: 'cannot call {0}: only DSL intrinsics and functions of this file are callable' },
  RECURSION: { code: 1009, text: 'function `{0}` calls itself; BPF has no unbounded recursion' },
  STACK_OVERFLOW: { code: 1010, text: 'the program needs {0} bytes of stack; BPF allows 512' },
  NEEDS_TYPE: { code: 1011, text: '`{0}` needs an integer type annotation (e.g. `let {0}: u32 = ...`)' },
  INEXACT: {
    code: 1012,
    text: '{0} has range {1}, beyond what `number` holds exactly (±2^53); wrap an operand or use u64',
  },
  NO_PROGRAM: {
    code: 1013,
    text: 'no program: export one with `export const name = program({ section, license }, (ctx) => ...)`',
  },
  BAD_DECL: { code: 1014, text: '{0}' },
  LOOP_VAR_ASSIGNED: {
    code: 1015,
    text: 'the loop variable `{0}` is assigned in the loop body; the bound proof needs it to change only in the update clause',
  },
  RECORD_TWICE: { code: 1016, text: 'ring-buffer record `{0}` is already submitted or discarded here' },
  BAD_IMPORT: {
    code: 1018,
    text: 'cannot import {0}: only integer constants and `table(...)`s of another DSL file can be imported (maps, functions and programs are per file)',
  },
  SUBVIEW_BOUND: {
    code: 1017,
    text: "{0}: the offset may be {1} and the length up to {2}, which reaches past the view's {3} bytes for the verifier (it checks the largest offset plus the largest length); narrow them first: `{4}`",
  },
  CALLBACK_FAULT: {
    code: 1019,
    text: 'the bpfLoop callback `{0}` is also called directly and has a view access the compiler cannot prove in bounds: a fault leaves a callback through the loop and a call through its result, not both; mask or check the offset first, or use two functions',
  },
} as const;

export type DiagnosticName = keyof typeof MESSAGES;

export interface Diagnostic {
  readonly name: DiagnosticName;
  readonly code: number;
  readonly message: string;
  readonly file: string;
  /** Character offsets of the offending range. */
  readonly start: number;
  readonly end: number;
  /** 1-based. */
  readonly line: number;
  readonly col: number;
}

export const formatMessage = (name: DiagnosticName, args: readonly string[]): string =>
  MESSAGES[name].text.replace(/\{(\d)\}/g, (_, i: string) => args[Number(i)] ?? '');

export const formatDiagnostic = (d: Diagnostic): string =>
  `${d.file}:${d.line}:${d.col}: error DSL${d.code}: ${d.message}`;

/** A source position resolver: offset → 1-based line and column. */
export type Locate = (offset: number) => { line: number; col: number };

/** Collects diagnostics; duplicates at the same range with the same code are dropped. */
export class DiagnosticSink {
  readonly list: Diagnostic[] = [];
  readonly #seen = new Set<string>();
  readonly #file: string;
  readonly #locate: Locate;
  constructor(file: string, locate: Locate) {
    this.#file = file;
    this.#locate = locate;
  }
  error(name: DiagnosticName, start: number, end: number, ...args: string[]): void {
    const { code } = MESSAGES[name];
    const key = `${code}:${start}:${end}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    const { line, col } = this.#locate(start);
    this.list.push({ name, code, message: formatMessage(name, args), file: this.#file, start, end, line, col });
  }
  get count(): number {
    return this.list.length;
  }
}

/** Thrown by `compile` when a file has errors; carries all of them. */
export class CompileError extends Error {
  readonly code = 'COMPILE_ERROR';
  readonly diagnostics: readonly Diagnostic[];
  constructor(diagnostics: readonly Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.diagnostics = diagnostics;
  }
}
