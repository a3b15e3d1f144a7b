/**
 * Range narrowing by conditions: on each edge of a comparison of a local (or parameter) with a
 * constant, the local's range is intersected with what the edge implies (`x > 60` false: x ≤ 60).
 * The kernel's verifier narrows the same register on the same conditional jump (64-bit compares of
 * exact values against constants: is_branch_taken/reg_set_min_max), so a bound the compiler then
 * folds away is one the verifier knows too. Ranges are snapshots per path: arms start from the
 * condition's facts, joins take the union, loops widen what their body assigns.
 */
import ts from 'typescript';
import { type Range, span, bmax, bmin, union } from '../ir/range.ts';
import type { Cx } from './context.ts';
import { type Block, successors } from '../ir/ir.ts';

/** Symbol → the range an edge of a condition implies for it. */
export type Facts = ReadonlyMap<ts.Symbol, Range>;

export interface CondFacts {
  readonly t: Facts;
  readonly f: Facts;
}

const NONE: CondFacts = { t: new Map(), f: new Map() };

const strip = (e: ts.Expression): ts.Expression => {
  let n = e;
  while (ts.isParenthesizedExpression(n) || (ts.isAsExpression(n) && n.type.getText() === 'const')) n = n.expression;
  return n;
};

/** The value of a compile-time constant expression (literals, constants, + - * << >> & |), or undefined. */
export const constValue = (cx: Cx, e: ts.Expression): bigint | undefined => {
  const n = strip(e);
  if (ts.isNumericLiteral(n)) {
    const v = Number(n.text);
    return Number.isSafeInteger(v) ? BigInt(v) : undefined;
  }
  if (ts.isBigIntLiteral(n)) return BigInt(n.text.slice(0, -1));
  if (ts.isPrefixUnaryExpression(n) && n.operator === ts.SyntaxKind.MinusToken) {
    const v = constValue(cx, n.operand);
    return v === undefined ? undefined : -v;
  }
  if (ts.isIdentifier(n)) {
    const sym = cx.symbolOf(n);
    if (sym === undefined) return undefined;
    const b = cx.bindings.get(sym);
    const v = b === undefined ? cx.module.consts.get(sym) : b.kind === 'value' ? b.value : undefined;
    return v?.kind === 'int' && v.reg === undefined ? v.value : undefined;
  }
  if (ts.isBinaryExpression(n)) {
    const a = constValue(cx, n.left);
    const b = a === undefined ? undefined : constValue(cx, n.right);
    if (a === undefined || b === undefined) return undefined;
    switch (n.operatorToken.kind) {
      case ts.SyntaxKind.PlusToken:
        return a + b;
      case ts.SyntaxKind.MinusToken:
        return a - b;
      case ts.SyntaxKind.AsteriskToken:
        return a * b;
      default:
        return undefined;
    }
  }
  return undefined;
};

/** The symbol and current range of a local integer named by `e`. */
const localInt = (cx: Cx, e: ts.Expression): { sym: ts.Symbol; range: Range } | undefined => {
  const n = strip(e);
  // `v.size` of a variable-length view: its length (the fact is kept under the view's symbol)
  if (ts.isPropertyAccessExpression(n) && n.name.text === 'size' && ts.isIdentifier(n.expression)) {
    const sym = cx.symbolOf(n.expression);
    const b = sym === undefined ? undefined : cx.bindings.get(sym);
    if (sym !== undefined && b?.kind === 'value' && b.value.kind === 'ptr' && b.value.len !== undefined)
      return { sym, range: b.value.len.range };
    return undefined;
  }
  if (!ts.isIdentifier(n)) return undefined;
  const sym = cx.symbolOf(n);
  const b = sym === undefined ? undefined : cx.bindings.get(sym);
  if (sym === undefined || b === undefined) return undefined;
  if (b.kind === 'var') return { sym, range: b.range };
  if (b.kind === 'value' && b.value.kind === 'int' && b.value.reg !== undefined) return { sym, range: b.value.range };
  return undefined;
};

type Rel = '<' | '<=' | '>' | '>=' | '==' | '!=';
const REL: Partial<Record<ts.SyntaxKind, Rel>> = {
  [ts.SyntaxKind.LessThanToken]: '<',
  [ts.SyntaxKind.LessThanEqualsToken]: '<=',
  [ts.SyntaxKind.GreaterThanToken]: '>',
  [ts.SyntaxKind.GreaterThanEqualsToken]: '>=',
  [ts.SyntaxKind.EqualsEqualsEqualsToken]: '==',
  [ts.SyntaxKind.EqualsEqualsToken]: '==',
  [ts.SyntaxKind.ExclamationEqualsEqualsToken]: '!=',
  [ts.SyntaxKind.ExclamationEqualsToken]: '!=',
};
const MIRROR: Record<Rel, Rel> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '==': '==', '!=': '!=' };
const NEGATE: Record<Rel, Rel> = { '<': '>=', '<=': '>', '>': '<=', '>=': '<', '==': '!=', '!=': '==' };

/** What `x rel c` implies for x's range r (undefined: nothing new; an empty range is kept as is). */
const implied = (r: Range, rel: Rel, c: bigint): Range | undefined => {
  switch (rel) {
    case '<':
      return span(r.lo, bmin(r.hi, c - 1n));
    case '<=':
      return span(r.lo, bmin(r.hi, c));
    case '>':
      return span(bmax(r.lo, c + 1n), r.hi);
    case '>=':
      return span(bmax(r.lo, c), r.hi);
    case '==':
      return span(bmax(r.lo, c), bmin(r.hi, c));
    default:
      // the verifier narrows `!=` only at an end of the range, as we do
      if (c === r.lo) return span(r.lo + 1n, r.hi);
      if (c === r.hi) return span(r.lo, r.hi - 1n);
      return undefined;
  }
};

const both = (a: Facts, b: Facts): Facts => {
  const out = new Map(a);
  for (const [s, r] of b) {
    const x = out.get(s);
    out.set(s, x === undefined ? r : span(bmax(x.lo, r.lo), bmin(x.hi, r.hi)));
  }
  return out;
};

const either = (a: Facts, b: Facts): Facts => {
  const out = new Map<ts.Symbol, Range>();
  for (const [s, r] of a) {
    const x = b.get(s);
    if (x !== undefined) out.set(s, union(r, x));
  }
  return out;
};

/**
 * The facts each edge of a condition implies, computed before the condition is lowered (from the
 * current ranges). `a && b` true: both; false: either edge that can get there; `||` dually.
 */
export const condFacts = (cx: Cx, e: ts.Expression): CondFacts => {
  const n = strip(e);
  if (ts.isPrefixUnaryExpression(n) && n.operator === ts.SyntaxKind.ExclamationToken) {
    const x = condFacts(cx, n.operand);
    return { t: x.f, f: x.t };
  }
  if (!ts.isBinaryExpression(n)) return NONE;
  const k = n.operatorToken.kind;
  if (k === ts.SyntaxKind.AmpersandAmpersandToken || k === ts.SyntaxKind.BarBarToken) {
    const a = condFacts(cx, n.left);
    // the right operand is tested with the left's facts applied
    const saved = snapshot(cx);
    apply(cx, k === ts.SyntaxKind.AmpersandAmpersandToken ? a.t : a.f);
    const b = condFacts(cx, n.right);
    restore(cx, saved);
    if (k === ts.SyntaxKind.AmpersandAmpersandToken) return { t: both(a.t, b.t), f: either(a.f, both(a.t, b.f)) };
    return { t: either(a.t, both(a.f, b.t)), f: both(a.f, b.f) };
  }
  const rel = REL[k];
  if (rel === undefined) return NONE;
  let x = localInt(cx, n.left);
  let c = x === undefined ? undefined : constValue(cx, n.right);
  let r = rel;
  if (x === undefined || c === undefined) {
    x = localInt(cx, n.right);
    c = x === undefined ? undefined : constValue(cx, n.left);
    r = MIRROR[rel];
  }
  if (x === undefined || c === undefined) return localFacts(cx, n.left, rel, n.right);
  const t = implied(x.range, r, c);
  const f = implied(x.range, NEGATE[r], c);
  return { t: new Map(t === undefined ? [] : [[x.sym, t]]), f: new Map(f === undefined ? [] : [[x.sym, f]]) };
};

/**
 * `x rel y` of two locals: each side is narrowed by the other's bound on each edge (`x < y` true:
 * x ≤ y.hi − 1 and y ≥ x.lo + 1), as the verifier's regs_refine_cond_op narrows two scalar
 * registers on a 64-bit conditional jump (Linux 6.8 and later). Only when both ranges are
 * non-negative, so the signed and unsigned readings of the jump agree.
 */
const localFacts = (cx: Cx, left: ts.Expression, rel: Rel, right: ts.Expression): CondFacts => {
  const x = localInt(cx, left);
  const y = x === undefined ? undefined : localInt(cx, right);
  if (x === undefined || y === undefined || x.sym === y.sym || x.range.lo < 0n || y.range.lo < 0n) return NONE;
  const edge = (r: Rel): Facts => {
    const out = new Map<ts.Symbol, Range>();
    // x against y's far end, y against x's (mirrored); `==` meets the two ranges
    const bx = r === '<' || r === '<=' ? y.range.hi : r === '>' || r === '>=' ? y.range.lo : undefined;
    const by = r === '<' || r === '<=' ? x.range.lo : r === '>' || r === '>=' ? x.range.hi : undefined;
    const nx =
      r === '=='
        ? span(bmax(x.range.lo, y.range.lo), bmin(x.range.hi, y.range.hi))
        : bx === undefined
          ? undefined
          : implied(x.range, r, bx);
    const ny = r === '==' ? nx : by === undefined ? undefined : implied(y.range, MIRROR[r], by);
    if (nx !== undefined) out.set(x.sym, nx);
    if (ny !== undefined) out.set(y.sym, ny);
    return out;
  };
  return { t: edge(rel), f: edge(NEGATE[rel]) };
};

/** The ranges of the integer locals in scope. */
export type Snapshot = ReadonlyMap<ts.Symbol, Range>;

export const snapshot = (cx: Cx): Snapshot => {
  const out = new Map<ts.Symbol, Range>();
  for (const [s, b] of cx.bindings) {
    if (b.kind === 'var') out.set(s, b.range);
    else if (b.kind === 'value' && b.value.kind === 'int' && b.value.reg !== undefined) out.set(s, b.value.range);
    else if (b.kind === 'value' && b.value.kind === 'ptr' && b.value.len !== undefined) out.set(s, b.value.len.range);
  }
  return out;
};

const setRange = (cx: Cx, s: ts.Symbol, r: Range): void => {
  const b = cx.bindings.get(s);
  if (b?.kind === 'var') b.range = r;
  else if (b?.kind === 'value' && b.value.kind === 'int' && b.value.reg !== undefined)
    cx.bindings.set(s, { kind: 'value', value: { ...b.value, range: r } });
  else if (b?.kind === 'value' && b.value.kind === 'ptr' && b.value.len !== undefined)
    cx.bindings.set(s, { kind: 'value', value: { ...b.value, len: { ...b.value.len, range: r } } });
};

export const restore = (cx: Cx, s: Snapshot): void => {
  for (const [sym, r] of s) setRange(cx, sym, r);
};

/**
 * Narrows the locals by an edge's facts. Returns false when a range becomes empty: the edge cannot
 * be taken (its ranges are left as they were).
 */
export const apply = (cx: Cx, facts: Facts): boolean => {
  const now = snapshot(cx);
  let live = true;
  for (const [sym, r] of facts) {
    const cur = now.get(sym);
    if (cur === undefined) continue;
    const lo = bmax(cur.lo, r.lo);
    const hi = bmin(cur.hi, r.hi);
    if (lo <= hi) setRange(cx, sym, span(lo, hi));
    else live = false;
  }
  return live;
};

/** Can control reach `b` from the entry through the jumps and branches lowered so far? */
export const targeted = (cx: Cx, b: Block): boolean => {
  const seen = new Set<number>([0]);
  const work = [0];
  while (work.length > 0) {
    const id = work.pop() as number;
    if (id === b.id) return true;
    const t = cx.fn.blocks[id]?.term;
    for (const s of t === undefined ? [] : successors(t))
      if (!seen.has(s)) {
        seen.add(s);
        work.push(s);
      }
  }
  return false;
};

/** The ranges after a join of the paths that reach it (undefined: a path that does not). */
export const merge = (paths: readonly (Snapshot | undefined)[]): Snapshot | undefined => {
  let out: Map<ts.Symbol, Range> | undefined;
  for (const p of paths) {
    if (p === undefined) continue;
    if (out === undefined) out = new Map(p);
    else
      for (const [s, r] of out) {
        const x = p.get(s);
        out.set(s, x === undefined ? r : union(r, x));
      }
  }
  return out;
};

/** Symbols assigned (=, op=, ++, --) anywhere inside `node`. */
export const assignedIn = (cx: Cx, node: ts.Node): Set<ts.Symbol> => {
  const out = new Set<ts.Symbol>();
  const scan = (n: ts.Node): void => {
    if (
      ts.isBinaryExpression(n) &&
      n.operatorToken.kind >= ts.SyntaxKind.FirstAssignment &&
      n.operatorToken.kind <= ts.SyntaxKind.LastAssignment &&
      ts.isIdentifier(n.left)
    ) {
      const s = cx.symbolOf(n.left);
      if (s) out.add(s);
    }
    if (
      (ts.isPostfixUnaryExpression(n) || ts.isPrefixUnaryExpression(n)) &&
      (n.operator === ts.SyntaxKind.PlusPlusToken || n.operator === ts.SyntaxKind.MinusMinusToken) &&
      ts.isIdentifier(n.operand)
    ) {
      const s = cx.symbolOf(n.operand);
      if (s) out.add(s);
    }
    n.forEachChild(scan);
  };
  scan(node);
  return out;
};

/** Before a loop: the variables its body assigns take their whole type's range (every iteration). */
export const widen = (cx: Cx, syms: Iterable<ts.Symbol>, full: (s: ts.Symbol) => Range | undefined): void => {
  for (const s of syms) {
    const r = full(s);
    if (r !== undefined) setRange(cx, s, r);
  }
};
