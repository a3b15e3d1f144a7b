/**
 * Counted loops, bounded by a `i < N` conjunct of their condition (N's range allows at most
 * LOOP_LIMIT iterations; the verifier walks every one): `for (let i: T = A; i < N [&& ...]; i++ | i += k)`,
 * and `while (i < N [&& ...]) { ...; i++ }` / `do { ...; i += k } while (...)` where the update ends
 * the body and is the only assignment of `i` in it. Lowered rotated: the test after the update, and
 * before the first iteration only when the start value does not already pass it (never for `do`).
 */
import ts from 'typescript';
import { point, type Range, rangeOf, span, union } from '../ir/range.ts';
import type { Cx } from './context.ts';
import { lowerCond, lowerExpr } from './expr.ts';
import { apply, assignedIn, condFacts, restore, snapshot, widen } from './narrow.ts';
import { lineOf, lowerStatement, lowerVarDecl, reportLeaks, sameRefs } from './stmt.ts';
import type { Binding } from './values.ts';

/** Largest trip count a loop bound may allow (the verifier walks every iteration). */
export const LOOP_LIMIT = 1 << 16;

const conjuncts = (e: ts.Expression): ts.Expression[] => {
  while (ts.isParenthesizedExpression(e)) e = e.expression;
  return ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.AmpersandAmpersandToken
    ? [...conjuncts(e.left), ...conjuncts(e.right)]
    : [e];
};

/** The step of `i++`, `++i`, `i += k` (k a positive literal), or undefined. */
const stepOf = (cx: Cx, e: ts.Expression | undefined, sym: ts.Symbol): bigint | undefined => {
  if (e === undefined) return undefined;
  if (
    (ts.isPostfixUnaryExpression(e) || ts.isPrefixUnaryExpression(e)) &&
    e.operator === ts.SyntaxKind.PlusPlusToken &&
    ts.isIdentifier(e.operand) &&
    cx.symbolOf(e.operand) === sym
  )
    return 1n;
  if (
    ts.isBinaryExpression(e) &&
    e.operatorToken.kind === ts.SyntaxKind.PlusEqualsToken &&
    ts.isIdentifier(e.left) &&
    cx.symbolOf(e.left) === sym &&
    ts.isNumericLiteral(e.right)
  )
    return BigInt(e.right.text);
  return undefined;
};

interface Counted {
  readonly node: ts.Node;
  readonly sym: ts.Symbol;
  readonly b: Extract<Binding, { kind: 'var' }>;
  /** The counter's range before the first iteration. */
  readonly initRange: Range;
  readonly step: bigint;
  readonly stepNode: ts.Node;
  readonly condition: ts.Expression | undefined;
  /** The body without the update (for `while`/`do`, the statements before it). */
  readonly body: readonly ts.Statement[];
  /** Everything lowered each iteration (for the variables it assigns). */
  readonly scope: ts.Node;
  /** `do ... while`: the body runs once before the first test. */
  readonly bodyFirst: boolean;
  readonly noContinue?: string;
}

const fullRange = (cx: Cx) => (s: ts.Symbol) => {
  const b = cx.bindings.get(s);
  return b?.kind === 'var' ? rangeOf(b.type) : undefined;
};

const lowerCounted = (cx: Cx, c: Counted): void => {
  const loc = cx.loc(c.node);
  const { sym, b, initRange, step } = c;
  // every iteration may see what the body assigned in an earlier one
  widen(
    cx,
    [...assignedIn(cx, c.scope)].filter((x) => x !== sym),
    fullRange(cx),
  );
  const entryRanges = snapshot(cx);
  const startLo = initRange.lo;
  const body = cx.newBlock();
  const cont = cx.newBlock();
  const exit = cx.newBlock();
  const parts = c.condition === undefined ? [] : conjuncts(c.condition);
  let bound: bigint | undefined;
  /**
   * The loop test, branching to body or exit. Lowered twice (rotation): before the first iteration,
   * where a bound the start value already satisfies is left out, and after the update, so each
   * iteration runs one conditional jump and no `goto`. Returns false after a diagnostic.
   */
  const test = (first: boolean): boolean => {
    let found = false;
    for (const p of parts) {
      const next = cx.newBlock();
      const isBound =
        !found &&
        ts.isBinaryExpression(p) &&
        ts.isIdentifier(p.left) &&
        cx.symbolOf(p.left) === sym &&
        (p.operatorToken.kind === ts.SyntaxKind.LessThanToken ||
          p.operatorToken.kind === ts.SyntaxKind.LessThanEqualsToken);
      if (isBound) {
        const e = lowerExpr(cx, (p as ts.BinaryExpression).right);
        const lim = e.kind === 'int' ? e : undefined;
        if (lim !== undefined && lim.range.hi - startLo <= BigInt(LOOP_LIMIT) * step && lim.range.lo >= 0n) {
          const le = (p as ts.BinaryExpression).operatorToken.kind === ts.SyntaxKind.LessThanEqualsToken;
          found = true;
          bound = le ? lim.range.hi : lim.range.hi - 1n;
          const holds = first && (le ? initRange.hi <= lim.range.lo : initRange.hi < lim.range.lo);
          if (holds) cx.jump(next, loc);
          else
            cx.terminate({
              op: 'br',
              cond: le ? 'jle' : 'jlt',
              a: b.reg,
              b: cx.operand(lim, loc),
              t: next.id,
              f: exit.id,
              loc,
            });
          cx.enter(next);
          // later conjuncts see the bound: `i < 16 && data.u8(i) !== 0`
          b.range = span(b.range.lo, b.range.hi < bound ? b.range.hi : bound);
          continue;
        }
        if (lim !== undefined) {
          cx.error(
            'UNBOUNDED_LOOP',
            p,
            `the limit \`${cx.text((p as ts.BinaryExpression).right)}\` may be up to ${lim.range.hi} (at most ${LOOP_LIMIT} iterations are allowed)`,
          );
          return false;
        }
      }
      const facts = condFacts(cx, p);
      lowerCond(cx, p, next, exit);
      cx.enter(next);
      apply(cx, facts.t);
    }
    if (!found) {
      cx.error(
        'UNBOUNDED_LOOP',
        c.condition ?? c.node,
        `no \`${b.name} < N\` condition bounds the loop (N a constant or a bounded value; or write \`cond && ${b.name} < LIMIT\`)`,
      );
      return false;
    }
    cx.jump(body, loc);
    return true;
  };
  const typeRange = rangeOf(b.type);
  if (c.bodyFirst) {
    // find the bound without emitting: lower the test in a block nothing jumps to
    const probe = cx.newBlock();
    const saved = cx.block;
    cx.enter(probe);
    b.range = span(startLo, typeRange.hi);
    const ok = test(false);
    probe.insns.length = 0;
    probe.term = { op: 'ret', value: { imm: 0 }, loc };
    cx.block = saved;
    cx.reachable = true;
    restore(cx, entryRanges);
    if (!ok || bound === undefined) return;
    cx.jump(body, loc);
  } else if (!test(true) || bound === undefined) return;
  const bodyRange = span(startLo, bound);
  b.range = c.bodyFirst ? union(initRange, bodyRange) : bodyRange;
  if (bound + step > typeRange.hi)
    cx.error('RANGE', c.stepNode, `\`${cx.text(c.stepNode)}\``, `..${bound + step}`, b.type.name, 'a smaller limit');
  const liveAtEntry = new Set(cx.live);
  cx.enter(body);
  if (!c.bodyFirst) {
    restore(cx, entryRanges);
    b.range = bodyRange;
    if (c.condition !== undefined) apply(cx, condFacts(cx, c.condition).t);
  }
  cx.loops.push({ brk: exit, cont, live: liveAtEntry, noContinue: c.noContinue });
  cx.loopVars.add(sym);
  for (const st of c.body) lowerStatement(cx, st);
  cx.loopVars.delete(sym);
  cx.loops.pop();
  if (cx.reachable && !sameRefs(cx.live, liveAtEntry))
    reportLeaks(
      cx,
      [...cx.live].filter((r) => !liveAtEntry.has(r)),
      `the next iteration of the loop at line ${lineOf(cx, c.node)}`,
    );
  cx.jump(cont, loc);
  cx.enter(cont);
  cx.live = new Set(liveAtEntry);
  restore(cx, entryRanges);
  b.range = c.bodyFirst ? union(initRange, bodyRange) : bodyRange;
  const next = cx.reg();
  cx.emit({
    op: 'alu',
    alu: 'add',
    w: bound + step <= 0xffffffffn && startLo >= 0n ? 32 : 64,
    dst: next,
    a: b.reg,
    b: { imm: Number(step) },
    loc: cx.loc(c.stepNode),
  });
  cx.emit({ op: 'mov', dst: b.reg, src: next, loc: cx.loc(c.stepNode) });
  const after = span(startLo, bound + step);
  b.range = c.bodyFirst ? union(initRange, after) : after;
  test(false);
  cx.enter(exit);
  restore(cx, entryRanges);
  b.range = c.bodyFirst ? union(initRange, after) : after;
};

/** `for (let i: T = init; i < E [&& ...]; i++ | i += k)`, bounded by E's range. */
export const lowerFor = (cx: Cx, s: ts.ForStatement): void => {
  const init = s.initializer;
  const decl =
    init !== undefined && ts.isVariableDeclarationList(init) && init.declarations.length === 1
      ? init.declarations[0]
      : undefined;
  if (
    decl === undefined ||
    !ts.isIdentifier(decl.name) ||
    (init as ts.VariableDeclarationList).flags & ts.NodeFlags.Const
  ) {
    cx.error('UNBOUNDED_LOOP', s, 'the loop must declare one counter: `let i: u32 = 0`');
    return;
  }
  lowerVarDecl(cx, decl, false);
  const sym = cx.symbolOf(decl.name);
  const b = sym === undefined ? undefined : cx.bindings.get(sym);
  if (sym === undefined || b?.kind !== 'var') return;
  // the start value: a literal is known exactly (so a first test it passes is left out)
  const initRange =
    decl.initializer !== undefined &&
    ts.isNumericLiteral(decl.initializer) &&
    Number.isSafeInteger(Number(decl.initializer.text))
      ? point(BigInt(Number(decl.initializer.text)))
      : b.range;
  const step = stepOf(cx, s.incrementor, sym);
  if (step === undefined || step <= 0n) {
    cx.error('UNBOUNDED_LOOP', s.incrementor ?? s, `the update must increase \`${decl.name.text}\` by a constant`);
    return;
  }
  lowerCounted(cx, {
    node: s,
    sym,
    b,
    initRange,
    step,
    stepNode: s.incrementor as ts.Node,
    condition: s.condition,
    body: [s.statement],
    scope: s,
    bodyFirst: false,
  });
};

/** The counter of a `while`/`do`: the variable of the condition's `i < N` conjunct. */
const counterOf = (cx: Cx, cond: ts.Expression): ts.Symbol | undefined => {
  for (const p of conjuncts(cond)) {
    if (
      ts.isBinaryExpression(p) &&
      ts.isIdentifier(p.left) &&
      (p.operatorToken.kind === ts.SyntaxKind.LessThanToken ||
        p.operatorToken.kind === ts.SyntaxKind.LessThanEqualsToken)
    ) {
      const sym = cx.symbolOf(p.left);
      if (sym !== undefined && cx.bindings.get(sym)?.kind === 'var') return sym;
    }
  }
  return undefined;
};

/**
 * `while (i < N && ...) { ...; i++; }` and `do { ...; i += k; } while (i < N && ...)`: `i` is a `let`
 * declared before, the update is the body's last statement and the only assignment of `i` in it.
 */
export const lowerWhile = (cx: Cx, s: ts.WhileStatement | ts.DoStatement): void => {
  const kind = ts.isWhileStatement(s) ? 'while' : 'do-while';
  const how = `bound it with a counter: \`${kind === 'while' ? 'while (i < N && ...) { ...; i++; }' : 'do { ...; i++; } while (i < N && ...)'}\` (a \`let\` declared before, updated only by the body's last statement)`;
  const sym = counterOf(cx, s.expression);
  const b = sym === undefined ? undefined : cx.bindings.get(sym);
  const stmts = ts.isBlock(s.statement) ? [...s.statement.statements] : [s.statement];
  const last = stmts[stmts.length - 1];
  const update = last !== undefined && ts.isExpressionStatement(last) ? last.expression : undefined;
  if (sym === undefined || b?.kind !== 'var') {
    cx.error('UNBOUNDED_LOOP', s.expression, `a ${kind} loop has no counter the compiler can bound: ${how}`);
    return;
  }
  const step = stepOf(cx, update, sym);
  const rest = stmts.slice(0, -1);
  if (step === undefined || step <= 0n || rest.some((x) => assignedIn(cx, x).has(sym))) {
    cx.error(
      'UNBOUNDED_LOOP',
      last ?? s,
      `the ${kind} loop's last statement must be the only update of \`${b.name}\`: ${how}`,
    );
    return;
  }
  lowerCounted(cx, {
    node: s,
    sym,
    b,
    initRange: b.range,
    step,
    stepNode: update as ts.Node,
    condition: s.expression,
    body: rest,
    scope: s,
    bodyFirst: kind === 'do-while',
    // TypeScript's `continue` skips the rest of the body, the trailing update too: natively the
    // loop would not advance, so it is refused rather than given a meaning the source does not have
    noContinue: `\`continue\` here skips \`${(update as ts.Node).getText(cx.source)}\`, the last statement of this ${kind} loop, as TypeScript runs it (the loop would not advance): write it as a for loop, whose update runs after a \`continue\`: \`for (let ${b.name}: ${b.type.name} = START; ${s.expression.getText(cx.source)}; ${(update as ts.Node).getText(cx.source)}) { ... }\``,
  });
};
