/**
 * Statements: bindings, assignments, if/else, break/continue, return (loops are in loop.ts), and the
 * inlining of the file's functions. Ring-buffer records alive on each path are tracked here, so a
 * record not submitted or discarded on some path is reported at compile time.
 */
import ts from 'typescript';
import type { Block, Loc } from '../ir/ir.ts';
import { INT_TYPES, isIntTypeName, type IntType, rangeOf, within } from '../ir/range.ts';
import { binaryInt, constInt } from './arith.ts';
import type { Cx, Frame } from './context.ts';
import { compoundOp, expectInt, lowerCond, lowerExpr, nullTest } from './expr.ts';
import { lowerFor, lowerWhile } from './loop.ts';
import { lowerSwitch } from './switch.ts';
import {
  apply,
  assignedIn,
  condFacts,
  type Facts,
  merge,
  restore,
  type Snapshot,
  snapshot,
  targeted,
} from './narrow.ts';
import { ERROR, type IntValue, type Ref, type Value } from './values.ts';

export const typeOfAnnotation = (cx: Cx, t: ts.TypeNode | undefined): IntType | 'bool' | 'void' | undefined => {
  if (t === undefined) return undefined;
  const text = t.getText(cx.source);
  if (isIntTypeName(text)) return INT_TYPES[text];
  if (text === 'bool' || text === 'boolean') return 'bool';
  if (text === 'void') return 'void';
  return undefined;
};

export const sameRefs = (a: ReadonlySet<Ref>, b: ReadonlySet<Ref>): boolean =>
  a.size === b.size && [...a].every((r) => b.has(r));

export const reportLeaks = (cx: Cx, live: Iterable<Ref>, where: string): void => {
  for (const r of live) cx.diags.error('RECORD_LEAK', r.start, r.end, r.name, where);
};

export const lineOf = (cx: Cx, node: ts.Node): number => cx.loc(node).line;

/** Stores an integer into a variable register. */
const assignInt = (cx: Cx, reg: number, v: IntValue, loc: Loc): void => {
  if (v.reg === undefined) cx.emit({ op: 'const', dst: reg, value: v.value ?? 0n, loc });
  else if (v.reg !== reg) cx.emit({ op: 'mov', dst: reg, src: v.reg, loc });
};

export const lowerVarDecl = (cx: Cx, d: ts.VariableDeclaration, isConst: boolean): void => {
  const loc = cx.loc(d);
  if (!ts.isIdentifier(d.name)) {
    cx.error('UNSUPPORTED', d.name, 'destructuring');
    return;
  }
  const sym = cx.symbolOf(d.name);
  if (d.initializer === undefined || sym === undefined) {
    cx.error('UNSUPPORTED', d, 'a declaration without an initializer');
    return;
  }
  const ann = typeOfAnnotation(cx, d.type);
  if (d.type !== undefined && ann === undefined && !isConst) {
    cx.error('UNSUPPORTED', d.type, `the type ${d.type.getText(cx.source)} for a variable`);
  }
  const v = lowerExpr(cx, d.initializer);
  const name = d.name.text;
  if (v.kind === 'error') {
    cx.bindings.set(sym, { kind: 'value', value: ERROR });
    return;
  }
  if (v.kind === 'int') {
    if (ann !== undefined && ann !== 'bool' && ann !== 'void') cx.checkFits(v, ann, d.initializer);
    if (isConst) {
      // (without `sum`: its x may be a variable assigned later)
      const { sum: _, ...plain } = v;
      const fresh =
        v.reg === undefined || !(ts.isIdentifier(d.initializer) || isVarReg(cx, v.reg))
          ? plain
          : { ...plain, reg: copy(cx, v.reg, loc) };
      cx.bindings.set(sym, { kind: 'value', value: fresh });
      return;
    }
    if (ann === undefined || ann === 'bool' || ann === 'void') {
      cx.error('NEEDS_TYPE', d.name, name);
      cx.bindings.set(sym, { kind: 'value', value: ERROR });
      return;
    }
    const reg = cx.reg();
    assignInt(cx, reg, v, loc);
    const fits = within(v.range, rangeOf(ann));
    cx.bindings.set(sym, { kind: 'var', reg, type: ann, range: fits ? v.range : rangeOf(ann), name });
    return;
  }
  if (v.kind === 'bool') {
    if (isConst && v.reg === undefined) {
      cx.bindings.set(sym, { kind: 'value', value: v });
      return;
    }
    const reg = cx.reg();
    cx.emit(
      v.reg === undefined
        ? { op: 'const', dst: reg, value: v.value ? 1n : 0n, loc }
        : { op: 'mov', dst: reg, src: v.reg, loc },
    );
    cx.bindings.set(sym, isConst ? { kind: 'value', value: { kind: 'bool', reg } } : { kind: 'boolvar', reg, name });
    return;
  }
  if (v.kind === 'ptr' || v.kind === 'struct') {
    if (!isConst) cx.error('UNSUPPORTED', d, 'a `let` view (views are `const`)');
    cx.bindings.set(sym, { kind: 'value', value: v });
    return;
  }
  cx.error('UNSUPPORTED', d.initializer, `\`${cx.text(d.initializer)}\` as a value`);
  cx.bindings.set(sym, { kind: 'value', value: ERROR });
};

/**
 * Is `reg` a `let` variable's register? A constant bound to it must copy it (`const c = i8(v)` with
 * v already in i8's range is v's register, which a later `v = ...` changes).
 */
const isVarReg = (cx: Cx, reg: number): boolean => {
  for (const b of cx.bindings.values()) if (b.kind === 'var' && b.reg === reg) return true;
  return false;
};

const copy = (cx: Cx, src: number, loc: Loc): number => {
  const dst = cx.reg();
  cx.emit({ op: 'mov', dst, src, loc });
  return dst;
};

/** `x = e`, `x op= e`, `x++`: `value` computes the new value from the old one. */
const lowerAssign = (
  cx: Cx,
  target: ts.Expression,
  node: ts.Node,
  value: (old: Value) => Value,
  expr: string,
): void => {
  const loc = cx.loc(node);
  if (!ts.isIdentifier(target)) {
    cx.error('UNSUPPORTED', target, 'assignment to anything but a local variable (use the view setters)');
    return;
  }
  const sym = cx.symbolOf(target);
  const b = sym === undefined ? undefined : cx.bindings.get(sym);
  if (sym === undefined || b === undefined) {
    cx.error('UNSUPPORTED', target, `assignment to \`${target.text}\``);
    return;
  }
  if (cx.loopVars.has(sym)) {
    cx.error('LOOP_VAR_ASSIGNED', node, target.text);
    return;
  }
  if (b.kind === 'var') {
    const v = value({ kind: 'int', reg: b.reg, range: b.range, big: b.type.big });
    if (v.kind === 'error') return;
    const i = expectInt(cx, v, node);
    if (i === undefined || !cx.checkFits(i, b.type, node, expr)) return;
    assignInt(cx, b.reg, i, loc);
    b.range = i.range;
    return;
  }
  if (b.kind === 'boolvar') {
    const v = value({ kind: 'bool', reg: b.reg });
    if (v.kind === 'bool')
      cx.emit(
        v.reg === undefined
          ? { op: 'const', dst: b.reg, value: v.value ? 1n : 0n, loc }
          : { op: 'mov', dst: b.reg, src: v.reg, loc },
      );
    else if (v.kind !== 'error') cx.error('TYPE_ERROR', node, 'a boolean variable takes a boolean');
    return;
  }
  cx.error('UNSUPPORTED', target, `assignment to the constant \`${target.text}\``);
};

const binaryWith =
  (cx: Cx, op: string, rhs: () => Value, node: ts.Node) =>
  (old: Value): Value => {
    const r = rhs();
    if (old.kind !== 'int' || r.kind !== 'int')
      return r.kind === 'error' ? r : cx.error('TYPE_ERROR', node, `${op} needs integers`);
    return binaryInt(cx, op, old, r, node, cx.loc(node));
  };

const lowerExpressionStatement = (cx: Cx, e: ts.Expression): void => {
  if (ts.isBinaryExpression(e)) {
    const k = e.operatorToken.kind;
    if (k === ts.SyntaxKind.EqualsToken) {
      lowerAssign(cx, e.left, e, () => lowerExpr(cx, e.right), cx.text(e.right));
      return;
    }
    const op = compoundOp(k);
    const lhs = cx.text(e.left);
    if (op !== undefined) {
      lowerAssign(
        cx,
        e.left,
        e,
        binaryWith(cx, op, () => lowerExpr(cx, e.right), e),
        `${lhs} ${op} ${cx.text(e.right)}`,
      );
      return;
    }
  }
  if (
    (ts.isPostfixUnaryExpression(e) || ts.isPrefixUnaryExpression(e)) &&
    (e.operator === ts.SyntaxKind.PlusPlusToken || e.operator === ts.SyntaxKind.MinusMinusToken)
  ) {
    const op = e.operator === ts.SyntaxKind.PlusPlusToken ? '+' : '-';
    lowerAssign(
      cx,
      e.operand,
      e,
      binaryWith(cx, op, () => constInt(1n, false), e),
      `${cx.text(e.operand)} ${op} 1`,
    );
    return;
  }
  lowerExpr(cx, e);
};

/** The refs a null test kills on the branch where the view is null. */
const nullRefs = (cx: Cx, sym: ts.Symbol): Ref | undefined => {
  const b = cx.bindings.get(sym);
  return b?.kind === 'value' && b.value.kind === 'ptr' ? b.value.ref : undefined;
};

const lowerIf = (cx: Cx, s: ts.IfStatement): void => {
  const loc = cx.loc(s);
  const t = cx.newBlock();
  const f = cx.newBlock();
  const join = cx.newBlock();
  const nt = nullTest(cx, s.expression);
  const nullRef = nt === undefined ? undefined : nullRefs(cx, nt.sym);
  const facts = condFacts(cx, s.expression);
  lowerCond(cx, s.expression, t, s.elseStatement ? f : join);
  const before = new Set(cx.live);
  const ranges = snapshot(cx);
  interface ArmOut {
    reach: boolean;
    live: Set<Ref>;
    ranges: Snapshot | undefined;
  }
  const arm = (b: Block, stmt: ts.Statement | undefined, nullSide: boolean, edge: Facts): ArmOut => {
    const taken = targeted(cx, b);
    cx.enter(b);
    cx.live = new Set(before);
    restore(cx, ranges);
    const possible = apply(cx, edge);
    if (!possible || !taken) {
      // An arm no edge takes (a constant condition) or the ranges rule out: not lowered. The second
      // kind is still a branch target, ended like a failed check (the verifier may not rule it out).
      cx.jump(taken ? cx.faultBlock(loc) : join, loc);
      return { reach: false, live: cx.live, ranges: undefined };
    }
    if (nullRef !== undefined && nullSide) cx.live.delete(nullRef);
    if (stmt !== undefined) lowerStatement(cx, stmt);
    const out = { reach: cx.reachable, live: cx.live, ranges: cx.reachable ? snapshot(cx) : undefined };
    cx.jump(join, loc);
    return out;
  };
  let b: ArmOut | undefined;
  if (!s.elseStatement) {
    // the false edge goes straight to join; f is unused
    const live = new Set(before);
    if (nullRef !== undefined && nt?.whenNull === false) live.delete(nullRef);
    const taken = targeted(cx, join);
    const reach = apply(cx, facts.f) && taken;
    b = { reach, live, ranges: reach ? snapshot(cx) : undefined };
    restore(cx, ranges);
    f.term = { op: 'jmp', target: join.id, loc };
    if (taken && !reach) {
      // a false edge the ranges rule out (before the then arm adds its own jump to join)
      const dead = cx.newBlock();
      retarget(cx, join, dead);
      dead.term = { op: 'jmp', target: cx.faultBlock(loc).id, loc };
    }
  }
  const a = arm(t, s.thenStatement, nt?.whenNull === true, facts.t);
  if (s.elseStatement) b = arm(f, s.elseStatement, nt?.whenNull === false, facts.f);
  if (b === undefined) return;
  cx.enter(join);
  if (a.reach && b.reach && !sameRefs(a.live, b.live)) {
    reportLeaks(
      cx,
      [...a.live].filter((r) => !b.live.has(r)).concat([...b.live].filter((r) => !a.live.has(r))),
      `the path that skips the if at line ${lineOf(cx, s)}`,
    );
  }
  cx.live = a.reach ? a.live : b.live;
  restore(cx, merge([a.ranges, b.ranges]) ?? ranges);
  if (!a.reach && !b.reach) cx.reachable = false;
};

/** Points every jump and branch to `from` at `to` instead. */
const retarget = (cx: Cx, from: Block, to: Block): void => {
  for (const x of cx.fn.blocks) {
    const t = x.term;
    if (t?.op === 'jmp' && t.target === from.id) x.term = { ...t, target: to.id };
    else if (t?.op === 'br' && (t.t === from.id || t.f === from.id))
      x.term = { ...t, t: t.t === from.id ? to.id : t.t, f: t.f === from.id ? to.id : t.f };
  }
};

/** `return e` (`s` the statement), or an arrow function's expression body (`s` the expression). */
export const lowerReturn = (cx: Cx, s: ts.Node, expression: ts.Expression | undefined): void => {
  const loc = cx.loc(s);
  const frame = cx.frames[cx.frames.length - 1] as Frame;
  let value: IntValue | Value | undefined;
  if (expression !== undefined) value = lowerExpr(cx, expression);
  if (!cx.reachable) return;
  if (cx.live.size > 0 && frame.exit === undefined) reportLeaks(cx, cx.live, `the return at line ${lineOf(cx, s)}`);
  if (frame.returns === 'void') {
    if (frame.exit !== undefined) cx.jump(frame.exit, loc);
    else cx.terminate({ op: 'ret', value: { imm: 0 }, loc });
    return;
  }
  if (value === undefined || value.kind === 'error') {
    if (value === undefined) cx.error('TYPE_ERROR', s, `return a value from ${frame.name}`);
    cx.terminate({ op: 'ret', value: { imm: 0 }, loc });
    return;
  }
  if (frame.returns === 'bool' && frame.exit === undefined) {
    // a subprogram's boolean result: 0 or 1 in R0
    if (value.kind !== 'bool') cx.error('TYPE_ERROR', s, 'return a boolean');
    const r = value.kind === 'bool' ? cx.toReg(value, loc) : undefined;
    cx.terminate({ op: 'ret', value: r === undefined ? { imm: 0 } : { reg: r }, loc });
    return;
  }
  if (frame.returns === 'bool') {
    if (value.kind !== 'bool') cx.error('TYPE_ERROR', s, 'return a boolean');
    else if (frame.result !== undefined)
      cx.emit(
        value.reg === undefined
          ? { op: 'const', dst: frame.result, value: value.value ? 1n : 0n, loc }
          : { op: 'mov', dst: frame.result, src: value.reg, loc },
      );
    if (frame.exit !== undefined) cx.jump(frame.exit, loc);
    return;
  }
  const i = expectInt(cx, value, expression as ts.Node);
  if (i === undefined || !cx.checkFits(i, frame.returns, expression as ts.Node)) {
    cx.terminate({ op: 'ret', value: { imm: 0 }, loc });
    return;
  }
  if (frame.exit === undefined) {
    cx.terminate({ op: 'ret', value: cx.operand(i, loc), loc });
    return;
  }
  assignInt(cx, frame.result as number, i, loc);
  cx.jump(frame.exit, loc);
};

export const lowerStatement = (cx: Cx, s: ts.Statement): void => {
  if (!cx.reachable) return;
  switch (s.kind) {
    case ts.SyntaxKind.Block:
      for (const x of (s as ts.Block).statements) lowerStatement(cx, x);
      return;
    case ts.SyntaxKind.VariableStatement: {
      const list = (s as ts.VariableStatement).declarationList;
      for (const d of list.declarations) lowerVarDecl(cx, d, (list.flags & ts.NodeFlags.Const) !== 0);
      return;
    }
    case ts.SyntaxKind.ExpressionStatement: {
      lowerExpressionStatement(cx, (s as ts.ExpressionStatement).expression);
      return;
    }
    case ts.SyntaxKind.IfStatement: {
      lowerIf(cx, s as ts.IfStatement);
      return;
    }
    case ts.SyntaxKind.ForStatement: {
      lowerFor(cx, s as ts.ForStatement);
      return;
    }
    case ts.SyntaxKind.ReturnStatement: {
      lowerReturn(cx, s, (s as ts.ReturnStatement).expression);
      return;
    }
    case ts.SyntaxKind.BreakStatement:
    case ts.SyntaxKind.ContinueStatement: {
      if ((s as ts.BreakStatement).label !== undefined) {
        cx.error('UNSUPPORTED', s, 'a labelled break or continue');
        return;
      }
      const isBreak = s.kind === ts.SyntaxKind.BreakStatement;
      const loop = isBreak ? cx.loops[cx.loops.length - 1] : cx.loops.findLast((l) => l.cont !== undefined);
      if (loop === undefined)
        return void cx.error(
          'UNSUPPORTED',
          s,
          `${isBreak ? 'break outside a loop or switch' : 'continue outside a loop'}`,
        );
      if (!isBreak && loop.noContinue !== undefined) return void cx.error('UNBOUNDED_LOOP', s, loop.noContinue);
      if (!sameRefs(cx.live, loop.live))
        reportLeaks(
          cx,
          [...cx.live].filter((r) => !loop.live.has(r)),
          `the ${isBreak ? 'break' : 'continue'} at line ${lineOf(cx, s)}`,
        );
      if (isBreak) loop.exits?.push(snapshot(cx));
      cx.jump(isBreak ? loop.brk : (loop.cont as Block), cx.loc(s));
      return;
    }
    case ts.SyntaxKind.WhileStatement:
    case ts.SyntaxKind.DoStatement:
      lowerWhile(cx, s as ts.WhileStatement | ts.DoStatement);
      return;
    case ts.SyntaxKind.SwitchStatement:
      lowerSwitch(cx, s as ts.SwitchStatement);
      return;
    case ts.SyntaxKind.EmptyStatement:
      return;
    default:
      cx.error('UNSUPPORTED', s, `${ts.SyntaxKind[s.kind]}`);
  }
};

/** A function of the file: a declaration, or a module-level `const f = (...): T => ...`. */
export type FunctionNode = ts.FunctionDeclaration | ts.ArrowFunction | ts.FunctionExpression;

export const functionName = (fn: FunctionNode): string => {
  if (fn.name !== undefined) return fn.name.text;
  const p = fn.parent;
  return ts.isVariableDeclaration(p) && ts.isIdentifier(p.name) ? p.name.text : 'function';
};

/** Inlines a call of one of the file's functions. */
export const inlineCall = (cx: Cx, fn: FunctionNode, node: ts.CallExpression, loc: Loc): Value => {
  const name = functionName(fn);
  if (cx.inlining.has(fn)) return cx.error('RECURSION', node, name);
  const returns = typeOfAnnotation(cx, fn.type);
  if (returns === undefined) return cx.error('NEEDS_TYPE', fn.type ?? fn.name ?? fn, `${name}'s return`);
  if (fn.body === undefined) return cx.error('UNSUPPORTED', fn, 'a function without a body');
  const assigned = assignedIn(cx, fn.body);
  const saved: [ts.Symbol, import('./values.ts').Binding | undefined][] = [];
  for (const [i, p] of fn.parameters.entries()) {
    const arg = node.arguments[i];
    const sym = ts.isIdentifier(p.name) ? cx.symbolOf(p.name) : undefined;
    if (arg === undefined || sym === undefined) {
      cx.error('UNSUPPORTED', p, 'this parameter (pass every argument; no destructuring)');
      continue;
    }
    const v = lowerExpr(cx, arg);
    saved.push([sym, cx.bindings.get(sym)]);
    const t = typeOfAnnotation(cx, p.type);
    if (v.kind === 'int' && t !== undefined && t !== 'bool' && t !== 'void') {
      cx.checkFits(v, t, arg);
      if (assigned.has(sym)) {
        const reg = cx.reg();
        assignInt(cx, reg, v, loc);
        cx.bindings.set(sym, { kind: 'var', reg, type: t, range: rangeOf(t), name: p.name.getText(cx.source) });
      } else
        cx.bindings.set(sym, {
          kind: 'value',
          value: (({ sum: _, ...plain }) =>
            v.reg !== undefined && (ts.isIdentifier(arg) || isVarReg(cx, v.reg))
              ? { ...plain, reg: copy(cx, v.reg, loc) }
              : plain)(v),
        });
    } else if (v.kind === 'int') {
      cx.error('NEEDS_TYPE', p, p.name.getText(cx.source));
    } else cx.bindings.set(sym, { kind: 'value', value: v });
  }
  const exit = cx.newBlock();
  const result = returns === 'void' ? undefined : cx.reg();
  cx.frames.push({ name, exit, result, returns });
  cx.inlining.add(fn);
  if (ts.isBlock(fn.body)) for (const st of fn.body.statements) lowerStatement(cx, st);
  else lowerReturn(cx, fn.body, fn.body);
  cx.inlining.delete(fn);
  cx.frames.pop();
  if (cx.reachable) {
    if (returns !== 'void') cx.error('TYPE_ERROR', fn.name ?? fn, `${name} can end without returning a value`);
    cx.jump(exit, loc);
  }
  for (const [sym, b] of saved) {
    if (b === undefined) cx.bindings.delete(sym);
    else cx.bindings.set(sym, b);
  }
  cx.enter(exit);
  if (result === undefined) return { kind: 'void' };
  if (returns === 'bool') return { kind: 'bool', reg: result };
  return { kind: 'int', reg: result, range: rangeOf(returns as IntType), big: (returns as IntType).big };
};
