/** Expressions and conditions. Calls are in intrinsics.ts. */
import ts from 'typescript';
import { CARRIER_DIR } from '../../bpf/abi/resources.ts';
import type { CondName } from '../../bpf/isa/index.ts';
import type { Block, Loc } from '../ir/ir.ts';
import { I64, point, type Range, span, U64, union, within } from '../ir/range.ts';
import { binaryInt, bitNot, constInt, negate } from './arith.ts';
import type { Cx } from './context.ts';
import { lowerCall } from './intrinsics.ts';
import { apply, condFacts, type Facts, restore, snapshot } from './narrow.ts';
import { ERROR, type IntValue, type Value } from './values.ts';

const BIN_OPS: Partial<Record<ts.SyntaxKind, string>> = {
  [ts.SyntaxKind.PlusToken]: '+',
  [ts.SyntaxKind.MinusToken]: '-',
  [ts.SyntaxKind.AsteriskToken]: '*',
  [ts.SyntaxKind.SlashToken]: '/',
  [ts.SyntaxKind.PercentToken]: '%',
  [ts.SyntaxKind.AmpersandToken]: '&',
  [ts.SyntaxKind.BarToken]: '|',
  [ts.SyntaxKind.CaretToken]: '^',
  [ts.SyntaxKind.LessThanLessThanToken]: '<<',
  [ts.SyntaxKind.GreaterThanGreaterThanToken]: '>>',
  [ts.SyntaxKind.GreaterThanGreaterThanGreaterThanToken]: '>>>',
};

/** Comparison tokens → [unsigned, signed] jump conditions. */
const CMP: Partial<Record<ts.SyntaxKind, readonly [CondName, CondName]>> = {
  [ts.SyntaxKind.LessThanToken]: ['jlt', 'jslt'],
  [ts.SyntaxKind.LessThanEqualsToken]: ['jle', 'jsle'],
  [ts.SyntaxKind.GreaterThanToken]: ['jgt', 'jsgt'],
  [ts.SyntaxKind.GreaterThanEqualsToken]: ['jge', 'jsge'],
  [ts.SyntaxKind.EqualsEqualsEqualsToken]: ['jeq', 'jeq'],
  [ts.SyntaxKind.ExclamationEqualsEqualsToken]: ['jne', 'jne'],
  [ts.SyntaxKind.EqualsEqualsToken]: ['jeq', 'jeq'],
  [ts.SyntaxKind.ExclamationEqualsToken]: ['jne', 'jne'],
};

export const compoundOp = (kind: ts.SyntaxKind): string | undefined =>
  ({
    [ts.SyntaxKind.PlusEqualsToken]: '+',
    [ts.SyntaxKind.MinusEqualsToken]: '-',
    [ts.SyntaxKind.AsteriskEqualsToken]: '*',
    [ts.SyntaxKind.AmpersandEqualsToken]: '&',
    [ts.SyntaxKind.BarEqualsToken]: '|',
    [ts.SyntaxKind.CaretEqualsToken]: '^',
    [ts.SyntaxKind.LessThanLessThanEqualsToken]: '<<',
    [ts.SyntaxKind.GreaterThanGreaterThanEqualsToken]: '>>',
    [ts.SyntaxKind.GreaterThanGreaterThanGreaterThanEqualsToken]: '>>>',
    [ts.SyntaxKind.PercentEqualsToken]: '%',
  })[kind as number];

const isPointer = (v: Value): boolean =>
  v.kind === 'ptr' || v.kind === 'struct' || v.kind === 'map' || v.kind === 'ctx' || v.kind === 'table';

export const expectInt = (cx: Cx, v: Value, node: ts.Node): IntValue | undefined => {
  if (v.kind === 'int') return v;
  if (v.kind !== 'error') {
    if (isPointer(v)) cx.error('POINTER_ESCAPE', node, `\`${cx.text(node)}\` is a view, not an integer`);
    else cx.error('UNSUPPORTED', node, `\`${cx.text(node)}\` as an integer`);
  }
  return undefined;
};

/** A variable read. */
const lowerIdentifier = (cx: Cx, node: ts.Identifier): Value => {
  if (node.text === 'undefined') return cx.error('UNSUPPORTED', node, '`undefined`');
  const sym = cx.symbolOf(node);
  if (sym === undefined) return ERROR;
  const b = cx.bindings.get(sym);
  if (b !== undefined) {
    if (b.kind === 'value') return b.value;
    if (b.kind === 'boolvar') return { kind: 'bool', reg: b.reg };
    return { kind: 'int', reg: b.reg, range: b.range, big: b.type.big };
  }
  const m = cx.module.maps.get(sym);
  if (m !== undefined) return { kind: 'map', map: m };
  // the DSL's constants: bpf_helper_carrier's directions (bpf/abi CARRIER_DIR)
  const dsl = cx.dslName(sym);
  if (dsl !== undefined && Object.hasOwn(CARRIER_DIR, dsl))
    return constInt(BigInt(CARRIER_DIR[dsl as keyof typeof CARRIER_DIR]), false);
  const s = cx.module.structs.get(sym) ?? cx.module.consts.get(sym);
  if (s !== undefined) return s;
  return cx.error('UNSUPPORTED', node, `\`${node.text}\` (not a local, a map, a struct or a constant of this file)`);
};

export const lowerExpr = (cx: Cx, node: ts.Expression): Value => {
  const loc = cx.loc(node);
  switch (node.kind) {
    case ts.SyntaxKind.ParenthesizedExpression:
      return lowerExpr(cx, (node as ts.ParenthesizedExpression).expression);
    case ts.SyntaxKind.NumericLiteral: {
      const t = (node as ts.NumericLiteral).text;
      const n = Number(t);
      if (!Number.isSafeInteger(n)) return cx.error('UNSUPPORTED', node, `the non-integer or inexact literal ${t}`);
      return constInt(BigInt(n), false);
    }
    case ts.SyntaxKind.BigIntLiteral:
      return constInt(BigInt((node as ts.BigIntLiteral).text.slice(0, -1)), true);
    case ts.SyntaxKind.TrueKeyword:
      return { kind: 'bool', value: true };
    case ts.SyntaxKind.FalseKeyword:
      return { kind: 'bool', value: false };
    case ts.SyntaxKind.NullKeyword:
      return { kind: 'null' };
    case ts.SyntaxKind.StringLiteral:
    case ts.SyntaxKind.NoSubstitutionTemplateLiteral:
      return { kind: 'string', text: (node as ts.StringLiteral).text };
    case ts.SyntaxKind.Identifier:
      return lowerIdentifier(cx, node as ts.Identifier);
    case ts.SyntaxKind.CallExpression:
      return lowerCall(cx, node as ts.CallExpression);
    case ts.SyntaxKind.PropertyAccessExpression:
      return lowerProperty(cx, node as ts.PropertyAccessExpression, loc);
    case ts.SyntaxKind.PrefixUnaryExpression: {
      const p = node as ts.PrefixUnaryExpression;
      if (p.operator === ts.SyntaxKind.ExclamationToken) return lowerBoolValue(cx, node);
      const v = lowerExpr(cx, p.operand);
      if (v.kind === 'error') return v;
      const a = expectInt(cx, v, p.operand);
      if (a === undefined) return ERROR;
      if (p.operator === ts.SyntaxKind.MinusToken) return negate(cx, a, node, loc);
      if (p.operator === ts.SyntaxKind.TildeToken) return bitNot(cx, a, loc);
      return cx.error(
        'UNSUPPORTED',
        node,
        `operator ${ts.tokenToString(p.operator)} in an expression (use it as a statement)`,
      );
    }
    case ts.SyntaxKind.BinaryExpression: {
      const b = node as ts.BinaryExpression;
      const k = b.operatorToken.kind;
      const op = BIN_OPS[k];
      if (op !== undefined) {
        const l = lowerExpr(cx, b.left);
        const r = lowerExpr(cx, b.right);
        if (l.kind === 'error' || r.kind === 'error') return ERROR;
        const a = expectInt(cx, l, b.left);
        const c = expectInt(cx, r, b.right);
        if (a === undefined || c === undefined) return ERROR;
        return binaryInt(cx, op, a, c, node, loc);
      }
      if (CMP[k] !== undefined || k === ts.SyntaxKind.AmpersandAmpersandToken || k === ts.SyntaxKind.BarBarToken) {
        return lowerBoolValue(cx, node);
      }
      if (k === ts.SyntaxKind.CommaToken) return cx.error('UNSUPPORTED', node, 'the comma operator');
      return cx.error(
        'UNSUPPORTED',
        node,
        `\`${b.operatorToken.getText(cx.source)}\` inside an expression (assign in a statement)`,
      );
    }
    case ts.SyntaxKind.ConditionalExpression:
      return lowerConditional(cx, node as ts.ConditionalExpression, loc);
    case ts.SyntaxKind.AsExpression:
    case ts.SyntaxKind.TypeAssertionExpression:
    case ts.SyntaxKind.SatisfiesExpression: {
      const inner = (node as ts.AsExpression).expression;
      const v = lowerExpr(cx, inner);
      if (isPointer(v)) return cx.error('POINTER_ESCAPE', node, `a type assertion on the view \`${cx.text(inner)}\``);
      if (ts.isAsExpression(node) && ts.isTypeReferenceNode(node.type) && node.type.getText(cx.source) === 'const')
        return v;
      return cx.error('UNSUPPORTED', node, 'a type assertion (convert with u8()...u64() instead)');
    }
    case ts.SyntaxKind.NonNullExpression:
      return cx.error(
        'UNCHECKED_NULL',
        node,
        `\`${cx.text((node as ts.NonNullExpression).expression)}\` (a \`!\` assertion is not a check)`,
      );
    default:
      return cx.error('UNSUPPORTED', node, `${ts.SyntaxKind[node.kind]} \`${cx.text(node)}\``);
  }
};

const lowerProperty = (cx: Cx, node: ts.PropertyAccessExpression, loc: Loc): Value => {
  const base = lowerExpr(cx, node.expression);
  const name = node.name.text;
  if (base.kind === 'error') return base;
  if (base.kind === 'struct') {
    const f = base.fields.find((x) => x.name === name);
    if (f === undefined) return cx.error('UNSUPPORTED', node.name, `field ${name}`);
    if (f.scalar === undefined) return { kind: 'ptr', reg: addConst(cx, base.reg, f.offset, loc), size: f.size };
    const size = Number(f.scalar.slice(1)) / 8;
    return loadScalar(cx, base.reg, f.offset, size as 1 | 2 | 4 | 8, f.scalar.startsWith('i'), loc);
  }
  if (name === 'size' && base.kind === 'ptr') return base.len ?? constInt(BigInt(base.size), false);
  if (name === 'size' && base.kind === 'structdef') return constInt(BigInt(base.size), false);
  if (name === 'length' && base.kind === 'table') return constInt(BigInt(base.length), false);
  if (base.kind === 'map' && (name === 'valueSize' || name === 'maxEntries' || name === 'size')) {
    const v =
      name === 'valueSize' ? base.map.valueSize : name === 'maxEntries' ? base.map.maxEntries : base.map.maxEntries;
    return constInt(BigInt(v), false);
  }
  return cx.error('UNSUPPORTED', node, `the property \`${cx.text(node)}\``);
};

/** base + k as a new pointer register. */
export const addConst = (cx: Cx, base: number, k: number, loc: Loc): number => {
  if (k === 0) return base;
  const dst = cx.reg();
  cx.emit({ op: 'alu', alu: 'add', w: 64, dst, a: base, b: { imm: k }, loc });
  return dst;
};

/** A load, sign-extended for signed types so the register holds the exact value. */
export const loadScalar = (
  cx: Cx,
  base: number,
  off: number,
  size: 1 | 2 | 4 | 8,
  signed: boolean,
  loc: Loc,
): IntValue => {
  const dst = cx.reg();
  cx.emit({ op: 'load', size, dst, base, off, loc });
  const bits = BigInt(size * 8);
  const big = size === 8;
  if (!signed) return { kind: 'int', reg: dst, range: span(0n, (1n << bits) - 1n), big };
  const range = span(-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n);
  if (size === 8) return { kind: 'int', reg: dst, range, big };
  const k = 64 - size * 8;
  const t = cx.reg();
  cx.emit({ op: 'alu', alu: 'lsh', w: 64, dst: t, a: dst, b: { imm: k }, loc });
  const s = cx.reg();
  cx.emit({ op: 'alu', alu: 'arsh', w: 64, dst: s, a: t, b: { imm: k }, loc });
  return { kind: 'int', reg: s, range, big };
};

/** `c ? a : b` for integers and booleans. */
const lowerConditional = (cx: Cx, node: ts.ConditionalExpression, loc: Loc): Value => {
  const t = cx.newBlock();
  const f = cx.newBlock();
  const join = cx.newBlock();
  const dst = cx.reg();
  const facts = condFacts(cx, node.condition);
  lowerCond(cx, node.condition, t, f);
  const saved = snapshot(cx);
  const arm = (b: Block, e: ts.Expression, edge: Facts): Value => {
    cx.enter(b);
    apply(cx, edge);
    const v = lowerExpr(cx, e);
    restore(cx, saved);
    if (v.kind === 'int' || v.kind === 'bool') {
      cx.emit({ op: 'mov', dst, src: cx.toReg(v, loc), loc });
    } else if (v.kind !== 'error') cx.error('UNSUPPORTED', e, 'a view in `?:` (only integers and booleans)');
    cx.jump(join, loc);
    return v;
  };
  const a = arm(t, node.whenTrue, facts.t);
  const b = arm(f, node.whenFalse, facts.f);
  cx.enter(join);
  if (a.kind === 'int' && b.kind === 'int') {
    if (a.big !== b.big) return cx.error('TYPE_ERROR', node, 'both arms of `?:` must be number or both bigint');
    return { kind: 'int', reg: dst, range: union(a.range, b.range), big: a.big };
  }
  if (a.kind === 'bool' && b.kind === 'bool') return { kind: 'bool', reg: dst };
  return ERROR;
};

/** A boolean expression as a 0/1 value. */
export const lowerBoolValue = (cx: Cx, node: ts.Expression): Value => {
  const loc = cx.loc(node);
  const t = cx.newBlock();
  const f = cx.newBlock();
  const join = cx.newBlock();
  const dst = cx.reg();
  lowerCond(cx, node, t, f);
  cx.enter(t);
  cx.emit({ op: 'const', dst, value: 1n, loc });
  cx.jump(join, loc);
  cx.enter(f);
  cx.emit({ op: 'const', dst, value: 0n, loc });
  cx.jump(join, loc);
  cx.enter(join);
  return { kind: 'bool', reg: dst };
};

/** Null tests of views `x === null`, `x !== null`, `!x`, `x`: the reference they narrow. */
export interface NullTest {
  readonly sym: ts.Symbol;
  /** True when the condition holds exactly when the view is null. */
  readonly whenNull: boolean;
}

export const nullTest = (cx: Cx, node: ts.Expression): NullTest | undefined => {
  let n = node;
  while (ts.isParenthesizedExpression(n)) n = n.expression;
  let negated = false;
  if (ts.isPrefixUnaryExpression(n) && n.operator === ts.SyntaxKind.ExclamationToken) {
    negated = true;
    n = n.operand;
    while (ts.isParenthesizedExpression(n)) n = n.expression;
  }
  if (ts.isIdentifier(n)) {
    const sym = cx.symbolOf(n);
    return sym === undefined ? undefined : { sym, whenNull: negated };
  }
  if (ts.isBinaryExpression(n) && n.right.kind === ts.SyntaxKind.NullKeyword && ts.isIdentifier(n.left)) {
    const eq =
      n.operatorToken.kind === ts.SyntaxKind.EqualsEqualsEqualsToken ||
      n.operatorToken.kind === ts.SyntaxKind.EqualsEqualsToken;
    const ne =
      n.operatorToken.kind === ts.SyntaxKind.ExclamationEqualsEqualsToken ||
      n.operatorToken.kind === ts.SyntaxKind.ExclamationEqualsToken;
    const sym = cx.symbolOf(n.left);
    if (sym === undefined || (!eq && !ne)) return undefined;
    return { sym, whenNull: eq !== negated };
  }
  return undefined;
};

/** Branches to `t` when the condition holds, else to `f`. */
export const lowerCond = (cx: Cx, node: ts.Expression, t: Block, f: Block): void => {
  const loc = cx.loc(node);
  if (ts.isParenthesizedExpression(node)) {
    lowerCond(cx, node.expression, t, f);
    return;
  }
  if (ts.isPrefixUnaryExpression(node) && node.operator === ts.SyntaxKind.ExclamationToken) {
    lowerCond(cx, node.operand, f, t);
    return;
  }
  if (ts.isBinaryExpression(node)) {
    const k = node.operatorToken.kind;
    if (k === ts.SyntaxKind.AmpersandAmpersandToken || k === ts.SyntaxKind.BarBarToken) {
      const mid = cx.newBlock();
      const and = k === ts.SyntaxKind.AmpersandAmpersandToken;
      const facts = condFacts(cx, node.left);
      if (and) lowerCond(cx, node.left, mid, f);
      else lowerCond(cx, node.left, t, mid);
      cx.enter(mid);
      // the right operand runs where the left one held (&&) or failed (||): `i < n && data.u8(i)`
      const saved = snapshot(cx);
      apply(cx, and ? facts.t : facts.f);
      lowerCond(cx, node.right, t, f);
      restore(cx, saved);
      return;
    }
    const cmp = CMP[k];
    if (cmp !== undefined) {
      lowerCompare(cx, node, cmp, t, f, loc);
      return;
    }
  }
  const v = lowerExpr(cx, node);
  branchOnValue(cx, v, node, t, f, loc);
};

const branchOnValue = (cx: Cx, v: Value, node: ts.Node, t: Block, f: Block, loc: Loc): void => {
  if (v.kind === 'bool' && v.reg === undefined) {
    cx.jump(v.value ? t : f, loc);
    return;
  }
  if (v.kind === 'bool' || v.kind === 'ptr') {
    cx.terminate({
      op: 'br',
      cond: 'jne',
      a: v.kind === 'ptr' ? v.reg : cx.toReg(v, loc),
      b: { imm: 0 },
      t: t.id,
      f: f.id,
      loc,
    });
    return;
  }
  if (v.kind !== 'error')
    cx.error('UNSUPPORTED', node, `\`${cx.text(node)}\` as a condition (compare it: \`x !== 0\`)`);
  cx.jump(f, loc);
};

const lowerCompare = (
  cx: Cx,
  node: ts.BinaryExpression,
  cmp: readonly [CondName, CondName],
  t: Block,
  f: Block,
  loc: Loc,
): void => {
  const l = lowerExpr(cx, node.left);
  const r = lowerExpr(cx, node.right);
  if (l.kind === 'error' || r.kind === 'error') {
    cx.jump(f, loc);
    return;
  }
  const eq = cmp[0] === 'jeq' || cmp[0] === 'jne';
  if (l.kind === 'null' || r.kind === 'null') {
    const p = l.kind === 'null' ? r : l;
    if (eq && p.kind === 'ptr') {
      cx.terminate({ op: 'br', cond: cmp[0], a: p.reg, b: { imm: 0 }, t: t.id, f: f.id, loc });
      return;
    }
    cx.error('UNSUPPORTED', node, `\`${cx.text(node)}\` (only views compare with null)`);
    cx.jump(f, loc);
    return;
  }
  if (isPointer(l) || isPointer(r)) {
    cx.error('POINTER_ESCAPE', node, `\`${cx.text(node)}\` compares views (only \`=== null\` is allowed)`);
    cx.jump(f, loc);
    return;
  }
  if (l.kind === 'bool' && r.kind === 'bool' && eq) {
    cx.terminate({
      op: 'br',
      cond: cmp[0],
      a: cx.toReg(l, loc),
      b: r.reg === undefined ? { imm: r.value ? 1 : 0 } : { reg: r.reg },
      t: t.id,
      f: f.id,
      loc,
    });
    return;
  }
  const a = expectInt(cx, l, node.left);
  const b = expectInt(cx, r, node.right);
  if (a === undefined || b === undefined) {
    cx.jump(f, loc);
    return;
  }
  if (a.big && (!cx.checkRegister(a, node.left) || !cx.checkRegister(b, node.right))) {
    cx.jump(f, loc);
    return;
  }
  const unsigned = a.range.lo >= 0n && b.range.lo >= 0n;
  if (a.big && !unsigned && !(within(a.range, I64) && within(b.range, I64))) {
    cx.error('RANGE', node, `\`${cx.text(node)}\``, 'u64 against a signed value', 'one signedness', 'i64(x) or u64(x)');
    cx.jump(f, loc);
    return;
  }
  const cond = unsigned ? cmp[0] : cmp[1];
  // Constant comparisons fold, so dead branches disappear.
  if (a.reg === undefined && b.reg === undefined && a.value !== undefined && b.value !== undefined) {
    cx.jump(evalCond(cond, a.value, b.value) ? t : f, loc);
    return;
  }
  // Comparisons the ranges decide fold too (`if (n > 512)` after n was narrowed to ≤ 480)
  const decided = decide(cond, a.range, b.range);
  if (decided !== undefined) {
    cx.jump(decided ? t : f, loc);
    return;
  }
  if (a.reg === undefined) {
    // put the register on the left: k < x  ⇔  x > k
    const flipped = FLIP[cond];
    cx.terminate({ op: 'br', cond: flipped, a: cx.toReg(b, loc), b: cx.operand(a, loc), t: t.id, f: f.id, loc });
    return;
  }
  cx.terminate({ op: 'br', cond, a: a.reg, b: cx.operand(b, loc), t: t.id, f: f.id, loc });
};

/** The outcome of `a cond b` for every value in the ranges, if it is the same for all. */
const decide = (cond: CondName, a: Range, b: Range): boolean | undefined => {
  switch (cond) {
    case 'jeq':
    case 'jne': {
      const eq =
        a.lo === a.hi && b.lo === b.hi && a.lo === b.lo ? true : a.hi < b.lo || b.hi < a.lo ? false : undefined;
      return eq === undefined ? undefined : cond === 'jeq' ? eq : !eq;
    }
    case 'jlt':
    case 'jslt':
      return a.hi < b.lo ? true : a.lo >= b.hi ? false : undefined;
    case 'jle':
    case 'jsle':
      return a.hi <= b.lo ? true : a.lo > b.hi ? false : undefined;
    case 'jgt':
    case 'jsgt':
      return a.lo > b.hi ? true : a.hi <= b.lo ? false : undefined;
    case 'jge':
    case 'jsge':
      return a.lo >= b.hi ? true : a.hi < b.lo ? false : undefined;
    default:
      return undefined;
  }
};

const FLIP: Record<CondName, CondName> = {
  jeq: 'jeq',
  jne: 'jne',
  jlt: 'jgt',
  jgt: 'jlt',
  jle: 'jge',
  jge: 'jle',
  jslt: 'jsgt',
  jsgt: 'jslt',
  jsle: 'jsge',
  jsge: 'jsle',
  jset: 'jset',
};

export const evalCond = (cond: CondName, a: bigint, b: bigint): boolean => {
  switch (cond) {
    case 'jeq':
      return a === b;
    case 'jne':
      return a !== b;
    case 'jlt':
    case 'jslt':
      return a < b;
    case 'jle':
    case 'jsle':
      return a <= b;
    case 'jgt':
    case 'jsgt':
      return a > b;
    case 'jge':
    case 'jsge':
      return a >= b;
    default:
      return (a & b) !== 0n;
  }
};

export { point, U64, type Range };
