/**
 * `noinline` functions: compiled once as BPF subprograms and called with BPF_PSEUDO_CALL (arguments
 * in R1–R5, the result in R0, a stack frame of their own). Parameters are integers (at most five) and
 * the result an integer of at most 32 bits, a boolean or void, so R0 has room for a fault sentinel:
 * a view access that fails inside the callee returns -1 (unsigned and boolean results) or 2^31
 * (signed results), which no result equals, and the caller ends with its own fault value there, as
 * the native `BoundsFault` unwinds to the program.
 */
import ts from 'typescript';
import { BPF_FUNC } from '../../bpf/abi/helper-ids.ts';
import type { Loc, Operand } from '../ir/ir.ts';
import { INT_TYPES, type IntType, rangeOf } from '../ir/range.ts';
import type { Cx } from './context.ts';
import { expectInt, lowerExpr } from './expr.ts';
import { assignedIn } from './narrow.ts';
import { type FunctionNode, lowerReturn, lowerStatement, typeOfAnnotation } from './stmt.ts';
import { ERROR, type Value } from './values.ts';

export interface Signature {
  readonly params: readonly IntType[];
  readonly returns: IntType | 'bool' | 'void';
}

/** The value a callee returns when one of its accesses faults. */
export const faultSentinel = (sig: Signature): number =>
  typeof sig.returns !== 'string' && sig.returns.signed ? 2 ** 31 : -1;

/** The signature of a `noinline` function, or undefined (with diagnostics when `report`). */
export const signatureOf = (cx: Cx, fn: FunctionNode, name: string, report: boolean): Signature | undefined => {
  const bad = (node: ts.Node, what: string): undefined => {
    if (report) cx.error('UNSUPPORTED', node, `${what} in the noinline function ${name}`);
    return undefined;
  };
  if (fn.parameters.length > 5) return bad(fn.parameters[5] as ts.Node, 'a sixth parameter (BPF passes five)');
  const params: IntType[] = [];
  for (const p of fn.parameters) {
    const t = typeOfAnnotation(cx, p.type);
    if (t === undefined || t === 'bool' || t === 'void' || t.big || !ts.isIdentifier(p.name))
      return bad(p, 'a parameter that is not a 8–32-bit integer (views and u64 are passed to inlined functions)');
    params.push(t);
  }
  const returns = typeOfAnnotation(cx, fn.type);
  if (returns === undefined || (typeof returns !== 'string' && returns.big))
    return bad(fn.type ?? fn, 'a result that is not a 8–32-bit integer, a boolean or void');
  return { params, returns };
};

/** A call of a `noinline` function: the arguments, the call, and the fault sentinel's test. */
export const lowerSubCall = (
  cx: Cx,
  sym: ts.Symbol,
  sub: { readonly name: string; readonly fn: FunctionNode },
  node: ts.CallExpression,
  loc: Loc,
): Value => {
  const sig = signatureOf(cx, sub.fn, sub.name, true);
  if (sig === undefined) return ERROR;
  const args: Operand[] = [];
  for (const [i, t] of sig.params.entries()) {
    const a = node.arguments[i];
    if (a === undefined) return cx.error('UNSUPPORTED', node, `a call of ${sub.name} without every argument`);
    const v = lowerExpr(cx, a);
    const n = v.kind === 'error' ? undefined : expectInt(cx, v, a);
    if (n === undefined || !cx.checkFits(n, t, a)) return ERROR;
    args.push(cx.operand(n, loc));
  }
  const dst = cx.reg();
  cx.emit({ op: 'call', helper: 0, name: sub.name, fn: sub.name, args, dst, loc });
  cx.module.called.add(sym);
  cx.module.direct.add(sym);
  const ok = cx.newBlock();
  const sentinel = faultSentinel(sig);
  cx.terminate({
    op: 'br',
    cond: sentinel < 0 ? 'jeq' : 'jsgt',
    a: dst,
    b: { imm: sentinel < 0 ? -1 : 2 ** 31 - 1 },
    t: cx.faultBlock(loc).id,
    f: ok.id,
    loc,
  });
  cx.enter(ok);
  if (sig.returns === 'void') return { kind: 'void' };
  if (sig.returns === 'bool') return { kind: 'bool', reg: dst };
  return { kind: 'int', reg: dst, range: rangeOf(sig.returns), big: false };
};

/**
 * `bpfLoop(n, cb)`: bpf_loop (181) with the address of the `noinline` function `cb` (lddw
 * BPF_PSEUDO_FUNC), a context and no flags. The callback takes the index (R1) or nothing and returns a
 * boolean (the verifier holds a callback's R0 to 0..1). The context points at an 8-byte fault flag on
 * this frame's stack, zero before the call: a view access that fails in the callback sets it and stops
 * the loop, and the caller then faults where it called bpfLoop, as the native `BoundsFault` unwinds.
 */
export const lowerLoopCall = (cx: Cx, node: ts.CallExpression, loc: Loc): Value => {
  const [count, cb] = node.arguments;
  if (count === undefined || cb === undefined || node.arguments.length !== 2)
    return cx.error('UNSUPPORTED', node, 'bpfLoop with other than (n, callback) arguments');
  const sym = ts.isIdentifier(cb) ? cx.symbolOf(cb) : undefined;
  const sub = sym === undefined ? undefined : cx.module.subprograms.get(sym);
  if (sym === undefined || sub === undefined)
    return cx.error('UNSUPPORTED', cb, 'a bpfLoop callback that is not a module-level `noinline` function');
  const sig = signatureOf(cx, sub.fn, sub.name, true);
  if (sig === undefined) return ERROR;
  if (sig.params.length > 1 || sig.returns !== 'bool')
    return cx.error('UNSUPPORTED', cb, `the callback ${sub.name} (bpfLoop takes a \`(i: u32): boolean\` function)`);
  const v = lowerExpr(cx, count);
  const n = v.kind === 'error' ? undefined : expectInt(cx, v, count);
  if (n === undefined || !cx.checkFits(n, INT_TYPES.u32, count)) return ERROR;
  const flagOff = cx.stackAlloc(8);
  const flag = cx.reg();
  cx.emit({ op: 'stack', dst: flag, off: flagOff, loc });
  cx.emit({ op: 'store', size: 8, base: flag, off: 0, src: { imm: 0 }, loc });
  const fn = cx.reg();
  cx.emit({ op: 'funcaddr', dst: fn, fn: sub.name, loc });
  const dst = cx.reg();
  const args: Operand[] = [cx.operand(n, loc), { reg: fn }, { reg: flag }, { imm: 0 }];
  cx.emit({ op: 'call', helper: BPF_FUNC.loop, name: 'bpf_loop', args, dst, loc });
  cx.module.called.add(sym);
  cx.module.callbacks.add(sym);
  const after = cx.reg();
  cx.emit({ op: 'stack', dst: after, off: flagOff, loc });
  const faulted = cx.reg();
  cx.emit({ op: 'load', size: 8, dst: faulted, base: after, off: 0, loc });
  const ok = cx.newBlock();
  cx.terminate({ op: 'br', cond: 'jne', a: faulted, b: { imm: 0 }, t: cx.faultBlock(loc).id, f: ok.id, loc });
  cx.enter(ok);
  return { kind: 'int', reg: dst, range: rangeOf(INT_TYPES.i32), big: false };
};

/** The body of a `noinline` function in `cx` (a Cx whose fault value is its sentinel). */
export const lowerSubprogramBody = (
  cx: Cx,
  fn: FunctionNode,
  name: string,
  sig: Signature,
  callback: boolean,
): void => {
  const loc = cx.loc(fn);
  const assigned = fn.body === undefined ? new Set<ts.Symbol>() : assignedIn(cx, fn.body);
  for (const [i, p] of fn.parameters.entries()) {
    const t = sig.params[i] as IntType;
    const sym = cx.symbolOf(p.name);
    if (sym === undefined) continue;
    const reg = cx.reg();
    cx.emit({ op: 'arg', dst: reg, index: i, loc });
    cx.bindings.set(
      sym,
      assigned.has(sym)
        ? { kind: 'var', reg, type: t, range: rangeOf(t), name: p.name.getText(cx.source) }
        : { kind: 'value', value: { kind: 'int', reg, range: rangeOf(t), big: false } },
    );
  }
  if (callback) {
    // R2: the caller's fault flag (lowerLoopCall)
    const flag = cx.reg();
    cx.emit({ op: 'arg', dst: flag, index: 1, loc });
    cx.faultFlag = flag;
  }
  cx.frames.push({ name, exit: undefined, result: undefined, returns: sig.returns });
  if (fn.body !== undefined && ts.isBlock(fn.body)) for (const s of fn.body.statements) lowerStatement(cx, s);
  else if (fn.body !== undefined) lowerReturn(cx, fn.body, fn.body);
  if (cx.reachable) {
    if (sig.returns === 'void') cx.terminate({ op: 'ret', value: { imm: 0 }, loc });
    else cx.error('TYPE_ERROR', fn, `${name} can end without returning a value`);
  }
};
