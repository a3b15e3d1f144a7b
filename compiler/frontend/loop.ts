/**
 * The one loop form, `for (let i: T = A; i < N [&& ...]; i++ | i += k)`, bounded by N's range (the
 * verifier walks every iteration), lowered rotated: the test after the update, and before the first
 * iteration only when a literal start does not pass it.
 */
import ts from 'typescript';
import { point, rangeOf, span } from '../ir/range.ts';
import type { Cx } from './context.ts';
import { lowerCond, lowerExpr } from './expr.ts';
import { lineOf, lowerStatement, lowerVarDecl, reportLeaks, sameRefs } from './stmt.ts';

/** Largest trip count a loop bound may allow (the verifier walks every iteration). */
export const LOOP_LIMIT = 1 << 16;

const conjuncts = (e: ts.Expression): ts.Expression[] => {
  while (ts.isParenthesizedExpression(e)) e = e.expression;
  return ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.AmpersandAmpersandToken
    ? [...conjuncts(e.left), ...conjuncts(e.right)]
    : [e];
};

/** `for (let i: T = init; i < E [&& ...]; i++ | i += k)`: the only loop form, bounded by E's range. */
export const lowerFor = (cx: Cx, s: ts.ForStatement): void => {
  const loc = cx.loc(s);
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
  // the step: i++, ++i or i += k with a constant k > 0
  let step: bigint | undefined;
  const inc = s.incrementor;
  if (
    inc !== undefined &&
    (ts.isPostfixUnaryExpression(inc) || ts.isPrefixUnaryExpression(inc)) &&
    inc.operator === ts.SyntaxKind.PlusPlusToken &&
    ts.isIdentifier(inc.operand) &&
    cx.symbolOf(inc.operand) === sym
  )
    step = 1n;
  if (
    inc !== undefined &&
    ts.isBinaryExpression(inc) &&
    inc.operatorToken.kind === ts.SyntaxKind.PlusEqualsToken &&
    ts.isIdentifier(inc.left) &&
    cx.symbolOf(inc.left) === sym &&
    ts.isNumericLiteral(inc.right)
  )
    step = BigInt(inc.right.text);
  if (step === undefined || step <= 0n) {
    cx.error('UNBOUNDED_LOOP', inc ?? s, `the update must increase \`${decl.name.text}\` by a constant`);
    return;
  }
  const startLo = initRange.lo;
  const body = cx.newBlock();
  const cont = cx.newBlock();
  const exit = cx.newBlock();
  const parts = s.condition === undefined ? [] : conjuncts(s.condition);
  let bound: bigint | undefined;
  /**
   * The loop test, branching to body or exit. Lowered twice (rotation): before the first iteration,
   * where a bound the start value already satisfies is left out, and after the update, so each
   * iteration runs one conditional jump and no `goto`. Returns false after a diagnostic.
   */
  const test = (first: boolean): boolean => {
    let found = false;
    for (const c of parts) {
      const next = cx.newBlock();
      const isBound =
        !found &&
        ts.isBinaryExpression(c) &&
        ts.isIdentifier(c.left) &&
        cx.symbolOf(c.left) === sym &&
        (c.operatorToken.kind === ts.SyntaxKind.LessThanToken ||
          c.operatorToken.kind === ts.SyntaxKind.LessThanEqualsToken);
      if (isBound) {
        const e = lowerExpr(cx, (c as ts.BinaryExpression).right);
        const lim = e.kind === 'int' ? e : undefined;
        if (lim !== undefined && lim.range.hi - startLo <= BigInt(LOOP_LIMIT) * step && lim.range.lo >= 0n) {
          const le = (c as ts.BinaryExpression).operatorToken.kind === ts.SyntaxKind.LessThanEqualsToken;
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
          continue;
        }
        if (lim !== undefined) {
          cx.error(
            'UNBOUNDED_LOOP',
            c,
            `the limit \`${cx.text((c as ts.BinaryExpression).right)}\` may be up to ${lim.range.hi} (at most ${LOOP_LIMIT} iterations are allowed)`,
          );
          return false;
        }
      }
      lowerCond(cx, c, next, exit);
      cx.enter(next);
    }
    if (!found) {
      cx.error(
        'UNBOUNDED_LOOP',
        s.condition ?? s,
        `no \`${decl.name.getText(cx.source)} < N\` condition bounds the loop`,
      );
      return false;
    }
    cx.jump(body, loc);
    return true;
  };
  if (!test(true) || bound === undefined) return;
  const typeRange = rangeOf(b.type);
  b.range = span(startLo, bound);
  if (bound + step > typeRange.hi)
    cx.error(
      'RANGE',
      inc as ts.Node,
      `\`${cx.text(inc as ts.Node)}\``,
      `..${bound + step}`,
      b.type.name,
      'a smaller limit',
    );
  const liveAtEntry = new Set(cx.live);
  cx.enter(body);
  cx.loops.push({ brk: exit, cont, live: liveAtEntry });
  cx.loopVars.add(sym);
  lowerStatement(cx, s.statement);
  cx.loopVars.delete(sym);
  cx.loops.pop();
  if (cx.reachable && !sameRefs(cx.live, liveAtEntry))
    reportLeaks(
      cx,
      [...cx.live].filter((r) => !liveAtEntry.has(r)),
      `the next iteration of the loop at line ${lineOf(cx, s)}`,
    );
  cx.jump(cont, loc);
  cx.enter(cont);
  cx.live = new Set(liveAtEntry);
  const next = cx.reg();
  cx.emit({
    op: 'alu',
    alu: 'add',
    w: bound + step <= 0xffffffffn && startLo >= 0n ? 32 : 64,
    dst: next,
    a: b.reg,
    b: { imm: Number(step) },
    loc,
  });
  cx.emit({ op: 'mov', dst: b.reg, src: next, loc });
  b.range = span(startLo, bound + step);
  test(false);
  cx.enter(exit);
};
