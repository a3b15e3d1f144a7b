/** Calls: integer conversions, view methods, maps and ring buffers, helpers, and inlined functions. */
import ts from 'typescript';
import { PROPOSED_HELPER_IDS } from '../../bpf/abi/helper-ids.ts';
import { SCALAR_WIDTH, type ScalarField } from '../dsl/struct.ts';
import type { Loc, Operand } from '../ir/ir.ts';
import {
  fmtRange,
  I64,
  INT_TYPES,
  isIntTypeName,
  type IntType,
  point,
  rangeOf,
  span,
  U32,
  U64,
  within,
} from '../ir/range.ts';
import { aluOp, binaryInt, constInt, signExtend, udivmod, zeroExtend32 } from './arith.ts';
import type { Cx } from './context.ts';
import { addConst, expectInt, loadScalar, lowerExpr } from './expr.ts';
import { checkedViewSize, placeAccess, viewAccess } from './memory.ts';
import { inlineCall } from './stmt.ts';
import { lowerLoopCall, lowerSubCall } from './subprogram.ts';
import { ERROR, type IntValue, type Value, VOID } from './values.ts';

const HELPER = {
  map_lookup_elem: 1,
  map_update_elem: 2,
  map_delete_elem: 3,
  ktime_get_ns: 5,
  get_prandom_u32: 7,
  ringbuf_reserve: 131,
  ringbuf_submit: 132,
  ringbuf_discard: 133,
} as const;

/** Helper results that are sizes or -errno fit i32 (docs/ABI.md: resources are at most 2^29 bytes). */
const I32_RANGE = rangeOf(INT_TYPES.i32);

const call = (
  cx: Cx,
  helper: number,
  name: string,
  args: readonly Operand[],
  loc: Loc,
  result: boolean,
): number | undefined => {
  const dst = result ? cx.reg() : undefined;
  cx.emit({ op: 'call', helper, name, args, dst, loc });
  return dst;
};

/** u8(x) ... i64(x): wrap to the type (cheap: the register already holds x mod 2^64). */
export const convert = (cx: Cx, t: IntType, v: IntValue, loc: Loc): IntValue => {
  const target = rangeOf(t);
  if (within(v.range, target)) return { ...v, big: t.big };
  if (v.reg === undefined && v.value !== undefined) {
    const w = t.signed ? BigInt.asIntN(t.bits, v.value) : BigInt.asUintN(t.bits, v.value);
    return constInt(w, t.big);
  }
  const src = { ...v, big: t.big };
  if (t.bits === 64)
    return { ...src, range: t.signed ? I64 : within(v.range, I64) && v.range.lo >= 0n ? v.range : U64 };
  if (!t.signed && t.bits === 32) return zeroExtend32(cx, src, target, loc);
  if (!t.signed) return aluOp(cx, 'and', 64, src, constInt((1n << BigInt(t.bits)) - 1n, false), target, loc);
  return signExtend(cx, src, t.bits, target, loc);
};

const intArg = (cx: Cx, node: ts.CallExpression, i: number): IntValue | undefined => {
  const a = node.arguments[i];
  if (a === undefined) return undefined;
  const v = lowerExpr(cx, a);
  return v.kind === 'error' ? undefined : expectInt(cx, v, a);
};

const constArg = (cx: Cx, node: ts.CallExpression, i: number, what: string): number | undefined => {
  const v = intArg(cx, node, i);
  if (v === undefined) return undefined;
  if (v.reg !== undefined || v.value === undefined) {
    cx.error('NOT_CONSTANT', node.arguments[i] as ts.Node, what);
    return undefined;
  }
  return Number(v.value);
};

/** A string literal placed in .rodata (NUL-terminated, deduplicated); its address register. */
const rodataString = (cx: Cx, text: string, loc: Loc): number => {
  const ro = cx.module.rodata;
  let off = ro.strings.get(text);
  if (off === undefined) {
    off = ro.bytes.length;
    ro.bytes.push(...new TextEncoder().encode(text), 0);
    while (ro.bytes.length % 8 !== 0) ro.bytes.push(0);
    ro.strings.set(text, off);
  }
  const dst = cx.reg();
  cx.emit({ op: 'rodata', dst, offset: off, loc });
  return dst;
};

const stringArg = (cx: Cx, node: ts.CallExpression, i: number, loc: Loc): number | undefined => {
  const a = node.arguments[i];
  if (a === undefined) return undefined;
  const v = lowerExpr(cx, a);
  if (v.kind === 'string') return rodataString(cx, v.text, loc);
  if (v.kind !== 'error') cx.error('NOT_CONSTANT', a, 'this string (the verifier reads it at load time)');
  return undefined;
};

const viewArg = (cx: Cx, node: ts.CallExpression, i: number): Extract<Value, { kind: 'ptr' }> | undefined => {
  const a = node.arguments[i];
  if (a === undefined) return undefined;
  const v = lowerExpr(cx, a);
  if (v.kind === 'ptr') return useView(cx, v, a);
  if (v.kind !== 'error') cx.error('UNSUPPORTED', a, `\`${cx.text(a)}\` as a view`);
  return undefined;
};

/** A view about to be used: refuses released records. */
const useView = (
  cx: Cx,
  v: Extract<Value, { kind: 'ptr' }>,
  node: ts.Node,
): Extract<Value, { kind: 'ptr' }> | undefined => {
  if (v.ref !== undefined && !cx.live.has(v.ref)) {
    cx.error('RECORD_TWICE', node, v.ref.name);
    return undefined;
  }
  return v;
};

/** (buf, size) of a helper: the size checked against the view, and ≥ 1 where the helper needs it. */
const sizedBuffer = (
  cx: Cx,
  node: ts.CallExpression,
  bi: number,
  si: number,
  nonZero: boolean,
  loc: Loc,
): [number, Operand] | undefined => {
  const buf = viewArg(cx, node, bi);
  const size = intArg(cx, node, si);
  if (buf === undefined || size === undefined) return undefined;
  const arg = node.arguments[si] as ts.Node;
  if (nonZero && size.range.lo < 1n) {
    cx.error(
      'RANGE',
      arg,
      `the size \`${cx.text(arg)}\``,
      `${size.range.lo}..${size.range.hi}`,
      `1..${buf.size}`,
      `size (must be at least 1)`,
    );
    return undefined;
  }
  const s = checkedViewSize(cx, buf, size, arg, loc);
  return s === undefined ? undefined : [buf.reg, cx.operand(s, loc)];
};

const helperResult = (dst: number | undefined): Value =>
  dst === undefined ? ERROR : { kind: 'int', reg: dst, range: I32_RANGE, big: false };

/** A DSL function called by name. */
const lowerDslCall = (cx: Cx, name: string, node: ts.CallExpression, loc: Loc): Value => {
  if (isIntTypeName(name)) {
    const v = intArg(cx, node, 0);
    return v === undefined ? ERROR : convert(cx, INT_TYPES[name], v, loc);
  }
  switch (name) {
    case 'udiv':
    case 'umod': {
      const a = intArg(cx, node, 0);
      const b = intArg(cx, node, 1);
      if (a === undefined || b === undefined) return ERROR;
      if (a.range.lo < 0n || b.range.lo < 0n || !within(a.range, U64) || !within(b.range, U64)) {
        return cx.error(
          'RANGE',
          node,
          `the operands of \`${cx.text(node)}\``,
          `${a.range.lo}..${a.range.hi}, ${b.range.lo}..${b.range.hi}`,
          'non-negative values',
          `${name}(u32(a), u32(b))`,
        );
      }
      return udivmod(cx, name === 'udiv' ? 'div' : 'mod', a, b, loc);
    }
    case 'stackBytes': {
      const n = constArg(cx, node, 0, 'the size of a stack buffer');
      if (n === undefined) return ERROR;
      if (n < 1 || n > 256)
        return cx.error('RANGE', node, 'a stack buffer size', `${n}`, '1..256', 'a map value for more');
      const off = cx.stackAlloc(n);
      const reg = cx.reg();
      cx.emit({ op: 'stack', dst: reg, off, loc });
      for (let k = 0; k < Math.ceil(n / 8) * 8; k += 8)
        cx.emit({ op: 'store', size: 8, base: reg, off: k, src: { imm: 0 }, loc });
      return { kind: 'ptr', reg, size: n };
    }
    case 'carrier': {
      const nameReg = stringArg(cx, node, 0, loc);
      const bs = sizedBuffer(cx, node, 1, 2, false, loc);
      const dir = intArg(cx, node, 3);
      if (nameReg === undefined || bs === undefined || dir === undefined) return ERROR;
      return helperResult(
        call(
          cx,
          PROPOSED_HELPER_IDS.bpf_helper_carrier,
          'bpf_helper_carrier',
          [{ reg: nameReg }, { reg: bs[0] }, bs[1], cx.operand(dir, loc)],
          loc,
          true,
        ),
      );
    }
    case 'decompress': {
      const src = sizedBuffer(cx, node, 0, 1, true, loc);
      const dst = sizedBuffer(cx, node, 2, 3, true, loc);
      if (src === undefined || dst === undefined) return ERROR;
      return helperResult(
        call(
          cx,
          PROPOSED_HELPER_IDS.bpf_helper_decompress,
          'bpf_helper_decompress',
          [{ reg: src[0] }, src[1], { reg: dst[0] }, dst[1]],
          loc,
          true,
        ),
      );
    }
    case 'supplementInitrd': {
      const dir = stringArg(cx, node, 0, loc);
      const addon = sizedBuffer(cx, node, 1, 2, true, loc);
      if (dir === undefined || addon === undefined) return ERROR;
      return helperResult(
        call(
          cx,
          PROPOSED_HELPER_IDS.bpf_helper_supplement_initrd,
          'bpf_helper_supplement_initrd',
          [{ reg: dir }, { reg: addon[0] }, addon[1]],
          loc,
          true,
        ),
      );
    }
    case 'bpfLoop':
      return lowerLoopCall(cx, node, loc);
    case 'ktimeGetNs': {
      const r = call(cx, HELPER.ktime_get_ns, 'bpf_ktime_get_ns', [], loc, true) as number;
      return { kind: 'int', reg: r, range: U64, big: true };
    }
    case 'getPrandomU32': {
      const r = call(cx, HELPER.get_prandom_u32, 'bpf_get_prandom_u32', [], loc, true) as number;
      return { kind: 'int', reg: r, range: U32, big: false };
    }
    case 'offsetOf': {
      const s = node.arguments[0] === undefined ? ERROR : lowerExpr(cx, node.arguments[0]);
      const f = node.arguments[1];
      if (s.kind !== 'structdef' || f === undefined || !ts.isStringLiteral(f))
        return cx.error('NOT_CONSTANT', node, 'offsetOf(Struct, "field")');
      const field = s.fields.find((x) => x.name === f.text);
      return field === undefined
        ? cx.error('TYPE_ERROR', f, `no field ${f.text}`)
        : constInt(BigInt(field.offset), false);
    }
    default:
      return cx.error('UNSUPPORTED', node, `the DSL function ${name} inside a program`);
  }
};

/**
 * `view.sub(off, len)`. A constant `len` gives a view of that size. A run-time `len` gives a
 * variable-length view whose bound is len's largest value L: the verifier checks every access against
 * [0, L) from the sub-view's start, so the compiler needs `off + L ≤ view's bound` from the ranges
 * (narrow them: `if (off > 3072 || len > 1024) return ...`); the DSL's check `off + len ≤ view's
 * length` is emitted where the ranges do not prove it.
 */
const lowerSub = (cx: Cx, view: Extract<Value, { kind: 'ptr' }>, node: ts.CallExpression, loc: Loc): Value => {
  const off = intArg(cx, node, 0);
  const lenV = intArg(cx, node, 1);
  if (off === undefined || lenV === undefined) return ERROR;
  if (lenV.reg === undefined && lenV.value !== undefined) {
    const len = Number(lenV.value);
    const p = viewAccess(cx, view, off, len, node, loc);
    if (p === undefined) return { kind: 'ptr', reg: view.reg, size: Math.max(len, 0) };
    return { kind: 'ptr', reg: addConst(cx, p.reg, p.off, loc), size: len };
  }
  const lenArg = node.arguments[1] as ts.Node;
  const offArg = node.arguments[0] as ts.Node;
  if (lenV.big && !cx.checkRegister(lenV, lenArg)) return ERROR;
  if (lenV.range.lo < 0n)
    return cx.error(
      'RANGE',
      lenArg,
      `the length \`${cx.text(lenArg)}\``,
      fmtRange(lenV.range),
      `0..${view.size}`,
      `u32(${cx.text(lenArg)})`,
    );
  const bound = lenV.range.hi < BigInt(view.size) ? lenV.range.hi : BigInt(view.size);
  if (off.range.lo < 0n || off.range.hi + bound > BigInt(view.size)) {
    const room = BigInt(view.size) - bound;
    return cx.error(
      'SUBVIEW_BOUND',
      node,
      `\`${cx.text(node)}\``,
      fmtRange(off.range),
      `${bound}`,
      `${view.size}`,
      room > 0n
        ? `if (${cx.text(offArg)} > ${room}) return ...`
        : `if (${cx.text(offArg)} > ${view.size >> 1} || ${cx.text(lenArg)} > ${view.size - (view.size >> 1)}) return ...`,
    );
  }
  // a length above the view's bound always faults (off + len > size); one register holds the length
  let len: IntValue = { ...lenV, sum: undefined };
  if (lenV.range.hi > bound) {
    const checked = checkedViewSize(cx, view, lenV, lenArg, loc);
    if (checked === undefined) return ERROR;
    len = checked;
  }
  // off + len within the view's length (its size, or its own run-time length)
  const whole = view.len ?? constInt(BigInt(view.size), false);
  if (off.range.hi + len.range.hi > whole.range.lo) {
    const end = binaryInt(cx, '+', off, len, node, loc);
    if (end.kind !== 'int') return ERROR;
    const ok = cx.newBlock();
    cx.terminate({
      op: 'br',
      cond: 'jgt',
      a: cx.toReg(end, loc),
      b: cx.operand(whole, loc),
      t: cx.faultBlock(loc).id,
      f: ok.id,
      loc,
    });
    cx.enter(ok);
  }
  const p = placeAccess(cx, view.reg, view.size, off, Number(bound), node, loc);
  const copy = cx.reg();
  cx.emit({ op: 'mov', dst: copy, src: cx.toReg(len, loc), loc });
  const ptr = p === undefined ? view.reg : addConst(cx, p.reg, p.off, loc);
  return { kind: 'ptr', reg: ptr, size: Number(bound), len: { kind: 'int', reg: copy, range: len.range, big: false } };
};

const SCALAR_GET = new Set(['u8', 'u16', 'u32', 'u64', 'i8', 'i16', 'i32', 'i64']);
const SETTERS: Record<string, 1 | 2 | 4 | 8> = { setU8: 1, setU16: 2, setU32: 4, setU64: 8 };

/** recv.method(args) where recv is a DSL value. */
const lowerMethod = (cx: Cx, recv: Value, method: string, node: ts.CallExpression, loc: Loc): Value => {
  if (recv.kind === 'ptr') {
    const view = useView(cx, recv, (node.expression as ts.PropertyAccessExpression).expression);
    if (view === undefined) return ERROR;
    if (SCALAR_GET.has(method)) {
      const width = SCALAR_WIDTH[method as ScalarField];
      const off = intArg(cx, node, 0);
      if (off === undefined) return ERROR;
      const p = viewAccess(cx, view, off, width, node, loc);
      if (p === undefined) return constInt(0n, width === 8);
      return loadScalar(cx, p.reg, p.off, width as 1 | 2 | 4 | 8, method.startsWith('i'), loc);
    }
    const sw = SETTERS[method];
    if (sw !== undefined) {
      const off = intArg(cx, node, 0);
      const v = intArg(cx, node, 1);
      if (off === undefined || v === undefined) return ERROR;
      if (v.big && !cx.checkRegister(v, node.arguments[1] as ts.Node)) return ERROR;
      const p = viewAccess(cx, view, off, sw, node, loc);
      if (p !== undefined) cx.emit({ op: 'store', size: sw, base: p.reg, off: p.off, src: cx.operand(v, loc), loc });
      return VOID;
    }
    if (method === 'sub') return lowerSub(cx, view, node, loc);
    if (method === 'submit' || method === 'discard') {
      const ref = view.ref;
      if (ref === undefined)
        return cx.error('UNSUPPORTED', node, `${method}() of a view that is not a ring-buffer record`);
      call(
        cx,
        method === 'submit' ? HELPER.ringbuf_submit : HELPER.ringbuf_discard,
        `bpf_ringbuf_${method}`,
        [{ reg: view.reg }, { imm: 0 }],
        loc,
        false,
      );
      cx.live.delete(ref);
      return VOID;
    }
    return cx.error('UNSUPPORTED', node, `the view method ${method}()`);
  }
  if (recv.kind === 'structdef' && method === 'at') {
    const buf = viewArg(cx, node, 0);
    const off = intArg(cx, node, 1);
    if (buf === undefined || off === undefined) return ERROR;
    const size = recv.size;
    const p = viewAccess(cx, buf, off, size, node, loc);
    return { kind: 'struct', reg: p === undefined ? buf.reg : addConst(cx, p.reg, p.off, loc), fields: recv.fields };
  }
  if (recv.kind === 'table' && method === 'at') {
    const i = intArg(cx, node, 0);
    if (i === undefined) return ERROR;
    const width = recv.elem.bits / 8;
    const off = width === 1 ? i : binaryInt(cx, '*', i, constInt(BigInt(width), false), node, loc);
    if (off.kind !== 'int') return ERROR;
    const base = cx.reg();
    cx.emit({ op: 'rodata', dst: base, offset: recv.offset, loc });
    const p = placeAccess(cx, base, recv.length * width, off, width, node, loc);
    if (p === undefined) return constInt(0n, false);
    return loadScalar(cx, p.reg, p.off, width as 1 | 2 | 4, recv.elem.signed, loc);
  }
  if (recv.kind === 'ctx' && method === 'arg') {
    const i = constArg(cx, node, 0, 'the argument index');
    if (i === undefined) return ERROR;
    if (i < 0 || i > 11) return cx.error('RANGE', node, 'the argument index', `${i}`, '0..11', 'a valid index');
    return loadScalar(cx, recv.reg, i * 8, 8, false, loc);
  }
  if (recv.kind === 'map') return lowerMapMethod(cx, recv.map, method, node, loc);
  if (recv.kind === 'error') return ERROR;
  return cx.error('UNSUPPORTED', node, `the method ${method}() here`);
};

/** A u32 key in a fresh stack slot; its address register. */
const keyOnStack = (cx: Cx, key: IntValue, loc: Loc): number => {
  const off = cx.stackAlloc(8);
  const reg = cx.reg();
  cx.emit({ op: 'stack', dst: reg, off, loc });
  cx.emit({ op: 'store', size: 4, base: reg, off: 0, src: cx.operand(key, loc), loc });
  return reg;
};

const lowerMapMethod = (
  cx: Cx,
  map: import('./values.ts').MapInfo,
  method: string,
  node: ts.CallExpression,
  loc: Loc,
): Value => {
  const mapReg = (): number => {
    const r = cx.reg();
    cx.emit({ op: 'map', dst: r, map: map.name, loc });
    return r;
  };
  if (map.kind === 'ringbuf') {
    if (method !== 'reserve') return cx.error('UNSUPPORTED', node, `${map.name}.${method}()`);
    const size = constArg(cx, node, 0, 'the size of a ring-buffer record (the verifier needs it constant)');
    if (size === undefined) return ERROR;
    const m = mapReg();
    const dst = call(
      cx,
      HELPER.ringbuf_reserve,
      'bpf_ringbuf_reserve',
      [{ reg: m }, { imm: size }, { imm: 0 }],
      loc,
      true,
    ) as number;
    const parent = node.parent;
    const name = ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name) ? parent.name.text : 'record';
    const ref = cx.newRef(name, node, dst);
    cx.live.add(ref);
    return { kind: 'ptr', reg: dst, size, ref };
  }
  const key = intArg(cx, node, 0);
  if (key === undefined) return ERROR;
  if (!cx.checkFits(key, INT_TYPES.u32, node.arguments[0] as ts.Node)) return ERROR;
  if (method === 'lookup') {
    const k = keyOnStack(cx, key, loc);
    const dst = call(
      cx,
      HELPER.map_lookup_elem,
      'bpf_map_lookup_elem',
      [{ reg: mapReg() }, { reg: k }],
      loc,
      true,
    ) as number;
    return { kind: 'ptr', reg: dst, size: map.valueSize };
  }
  if (method === 'update') {
    const v = viewArg(cx, node, 1);
    if (v === undefined) return ERROR;
    if ((v.len === undefined ? v.size : Number(v.len.range.lo)) < map.valueSize)
      return cx.error(
        'RANGE',
        node.arguments[1] as ts.Node,
        'the value view size',
        `${v.size}`,
        `${map.valueSize} bytes`,
        'a larger view',
      );
    const k = keyOnStack(cx, key, loc);
    return helperResult(
      call(
        cx,
        HELPER.map_update_elem,
        'bpf_map_update_elem',
        [{ reg: mapReg() }, { reg: k }, { reg: v.reg }, { imm: 0 }],
        loc,
        true,
      ),
    );
  }
  if (method === 'delete' && map.kind === 'hash') {
    const k = keyOnStack(cx, key, loc);
    return helperResult(
      call(cx, HELPER.map_delete_elem, 'bpf_map_delete_elem', [{ reg: mapReg() }, { reg: k }], loc, true),
    );
  }
  return cx.error('UNSUPPORTED', node, `${map.name}.${method}()`);
};

export const lowerCall = (cx: Cx, node: ts.CallExpression): Value => {
  const loc = cx.loc(node);
  const callee = node.expression;
  if (ts.isPropertyAccessExpression(callee)) {
    if (callee.getText(cx.source) === 'Math.imul') {
      const a = intArg(cx, node, 0);
      const b = intArg(cx, node, 1);
      if (a === undefined || b === undefined || a.big || b.big) return ERROR;
      // ToInt32(a * b): the low 32 bits of the product, sign-extended
      const lo = aluOp(cx, 'mul', 32, a, b, U32, loc);
      return signExtend(cx, lo, 32, rangeOf(INT_TYPES.i32), loc);
    }
    const recv = lowerExpr(cx, callee.expression);
    return lowerMethod(cx, recv, callee.name.text, node, loc);
  }
  if (ts.isIdentifier(callee)) {
    const sym = cx.symbolOf(callee);
    const dsl = cx.dslName(sym);
    if (dsl !== undefined) return lowerDslCall(cx, dsl, node, loc);
    const fn = sym === undefined ? undefined : cx.module.functions.get(sym);
    if (fn !== undefined) return inlineCall(cx, fn, node, loc);
    const sub = sym === undefined ? undefined : cx.module.subprograms.get(sym);
    if (sym !== undefined && sub !== undefined) return lowerSubCall(cx, sym, sub, node, loc);
  }
  return cx.error('UNKNOWN_CALL', node, `\`${cx.text(callee)}\``);
};

export { point, span };
