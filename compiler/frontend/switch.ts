/**
 * `switch` on an integer: the discriminant is evaluated once, then a chain of `jeq` tests in case
 * order (the kernel verifier narrows the discriminant to the case's value on each taken edge, as we
 * do), then `default` or the exit. Case bodies are laid out in source order, so fall-through is a
 * straight line; `break` leaves the switch, `continue` goes to the enclosing loop.
 *
 * A compare chain rather than a jump table: BPF has no indirect jump (gotox is not in the ISA the
 * kernels we target take), and a binary search would save compares only past ~8 dense cases while
 * making the order of the tests differ from the source.
 */
import ts from 'typescript';
import { point, span } from '../ir/range.ts';
import type { Cx } from './context.ts';
import { expectInt, lowerExpr } from './expr.ts';
import { constValue, merge, restore, type Snapshot, snapshot } from './narrow.ts';
import type { Ref } from './values.ts';

import { lineOf, lowerStatement, reportLeaks, sameRefs } from './stmt.ts';

export const lowerSwitch = (cx: Cx, s: ts.SwitchStatement): void => {
  const loc = cx.loc(s);
  const v = lowerExpr(cx, s.expression);
  if (v.kind === 'error') return;
  const d = expectInt(cx, v, s.expression);
  if (d === undefined) return;
  if (d.big && !cx.checkRegister(d, s.expression)) return;
  const clauses = s.caseBlock.clauses;
  // the discriminant's binding, narrowed to the case value where the case is entered by its test
  const dsym = ts.isIdentifier(s.expression) ? cx.symbolOf(s.expression) : undefined;
  const values: (bigint | undefined)[] = [];
  const seen = new Set<bigint>();
  for (const c of clauses) {
    if (ts.isDefaultClause(c)) {
      values.push(undefined);
      continue;
    }
    const k = constValue(cx, c.expression);
    if (k === undefined) {
      cx.error('NOT_CONSTANT', c.expression, 'a case label (an integer constant)');
      return;
    }
    if (seen.has(k)) {
      cx.error('UNSUPPORTED', c.expression, `a second \`case ${k}\``);
      return;
    }
    seen.add(k);
    values.push(k);
  }
  const bodies = clauses.map(() => cx.newBlock());
  const exit = cx.newBlock();
  const before = new Set(cx.live);
  const ranges = snapshot(cx);
  const reg = d.reg === undefined ? undefined : d.reg;
  // the test chain
  for (const [i, k] of values.entries()) {
    if (k === undefined) continue;
    const target = bodies[i] as (typeof bodies)[number];
    if (reg === undefined) {
      if (d.value === k) cx.jump(target, loc);
      continue;
    }
    if (k < d.range.lo || k > d.range.hi) continue;
    const next = cx.newBlock();
    const imm = k >= -(2n ** 31n) && k < 2n ** 31n;
    const kreg = imm ? undefined : cx.toReg({ kind: 'int', value: k, range: point(k), big: d.big }, loc);
    cx.terminate({
      op: 'br',
      cond: 'jeq',
      a: reg,
      b: kreg === undefined ? { imm: Number(k) } : { reg: kreg },
      t: target.id,
      f: next.id,
      loc,
    });
    cx.enter(next);
  }
  const dflt = values.indexOf(undefined);
  cx.jump(dflt >= 0 ? (bodies[dflt] as (typeof bodies)[number]) : exit, loc);
  const exits: Snapshot[] = [];
  if (dflt < 0) exits.push(ranges);
  let fallLive: Set<Ref> | undefined;
  let fallRanges: Snapshot | undefined;
  const outLive: Set<Ref>[] = dflt < 0 ? [new Set(before)] : [];
  for (const [i, c] of clauses.entries()) {
    const body = bodies[i] as (typeof bodies)[number];
    cx.enter(body);
    const k = values[i];
    // entered by its test (and by the previous case falling through, if it does)
    const entryRanges = merge([ranges, fallRanges]) ?? ranges;
    restore(cx, entryRanges);
    if (fallRanges === undefined && k !== undefined && dsym !== undefined) {
      const b = cx.bindings.get(dsym);
      if (b?.kind === 'var') b.range = span(k, k);
      else if (b?.kind === 'value' && b.value.kind === 'int' && b.value.reg !== undefined)
        cx.bindings.set(dsym, { kind: 'value', value: { ...b.value, range: point(k) } });
    }
    if (fallLive !== undefined && !sameRefs(fallLive, before))
      reportLeaks(
        cx,
        [...fallLive].filter((r) => !before.has(r)),
        `the fall-through into case ${i + 1} of the switch at line ${lineOf(cx, s)}`,
      );
    cx.live = new Set(before);
    const target = { brk: exit, cont: undefined, live: before, exits };
    cx.loops.push(target);
    for (const st of c.statements) lowerStatement(cx, st);
    cx.loops.pop();
    fallLive = cx.reachable ? cx.live : undefined;
    fallRanges = cx.reachable ? snapshot(cx) : undefined;
    const next = bodies[i + 1];
    if (cx.reachable) cx.jump(next ?? exit, loc);
  }
  if (fallRanges !== undefined) {
    exits.push(fallRanges);
    if (fallLive !== undefined) outLive.push(fallLive);
  }
  cx.enter(exit);
  cx.live = new Set(before);
  for (const l of outLive)
    if (!sameRefs(l, before))
      reportLeaks(
        cx,
        [...l].filter((r) => !before.has(r)),
        `the end of the switch at line ${lineOf(cx, s)}`,
      );
  const out = merge(exits);
  if (out === undefined) cx.reachable = false;
  else restore(cx, out);
};
