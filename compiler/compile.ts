/**
 * compile(): a DSL file → BPF programs, maps and .rodata, or every diagnostic of the file.
 * Pipeline: TypeScript program (cached libs) → TS diagnostics → module declarations → per program:
 * lowering to IR → optimisation → register allocation → instructions.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import type { Insn } from '../bpf/isa/index.ts';
import { emitFunction, type Reloc } from './backend/emit.ts';
import { allocate } from './backend/regalloc.ts';
import { type Diagnostic, DiagnosticSink } from './diagnostics.ts';
import { Cx, type ModuleInfo } from './frontend/context.ts';
import { createDslProgram } from './frontend/host.ts';
import { readModule } from './frontend/module.ts';
import { faultSentinel, lowerSubprogramBody, signatureOf } from './frontend/subprogram.ts';
import { lowerExpr } from './frontend/expr.ts';
import { lowerStatement } from './frontend/stmt.ts';
import type { MapInfo } from './frontend/values.ts';
import { INT_TYPES } from './ir/range.ts';
import { type IrFunction, type Loc, newFunction } from './ir/ir.ts';
import { optimize } from './ir/optimize.ts';
import { printIr } from './ir/print.ts';

/** Where the DSL lives: symbols declared under it are intrinsics. */
export const DSL_DIR = resolve(dirname(fileURLToPath(import.meta.url)), 'dsl');

export interface CompiledProgram {
  readonly name: string;
  /** SEC() name; `.text` for a subprogram. */
  readonly section: string;
  /** A subprogram's parameter names (R1..R5). */
  readonly params?: readonly string[];
  readonly insns: readonly Insn[];
  readonly relocs: readonly Reloc[];
  readonly locs: readonly (Loc | undefined)[];
  readonly stackSize: number;
  readonly ir: string;
}

export interface CompileOutput {
  readonly file: string;
  readonly license: string;
  readonly programs: readonly CompiledProgram[];
  /** `noinline` functions the programs call (bpf-to-bpf), in the order they were compiled. */
  readonly subprograms: readonly CompiledProgram[];
  readonly maps: readonly MapInfo[];
  readonly rodata: Uint8Array;
  readonly diagnostics: readonly Diagnostic[];
  /** The source lines (for line_info text and listings). */
  readonly lines: readonly string[];
}

/** TS error codes that mean "possibly null". */
const NULL_CODES = new Set([2531, 2532, 18047, 18048, 18049]);

/** Optimisation, register allocation and instructions of one function. */
const backend = (
  fn: IrFunction,
  name: string,
  section: string,
  laidOut: (order: readonly number[]) => void = () => {},
): CompiledProgram => {
  const order = optimize(fn);
  laidOut(order);
  const alloc = allocate(fn, order);
  const out = emitFunction(fn, order, alloc);
  return {
    name,
    section,
    insns: out.insns,
    relocs: out.relocs,
    locs: out.locs,
    stackSize: out.stackSize,
    ir: printIr(fn, order),
  };
};

export const compileSource = (file: string, text: string): CompileOutput => {
  const abs = resolve(file);
  const { program, source } = createDslProgram(abs, text);
  const locate = (offset: number) => {
    const p = source.getLineAndCharacterOfPosition(offset);
    return { line: p.line + 1, col: p.character + 1 };
  };
  const diags = new DiagnosticSink(file, locate);
  for (const d of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
    const start = d.start ?? 0;
    const msg = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    if (NULL_CODES.has(d.code)) {
      const what = source.text.slice(start, start + (d.length ?? 0));
      diags.error('UNCHECKED_NULL', start, start + (d.length ?? 0), `\`${what}\``);
    } else diags.error('TYPE_ERROR', start, start + (d.length ?? 0), `TS${d.code}: ${msg}`);
  }
  const checker = program.getTypeChecker();
  const mod: ModuleInfo = {
    maps: new Map(),
    structs: new Map(),
    consts: new Map(),
    functions: new Map(),
    subprograms: new Map(),
    called: new Set(),
    direct: new Set(),
    callbacks: new Set(),
    rodata: { bytes: [], strings: new Map() },
  };
  const moduleCx = new Cx(newFunction('<module>'), checker, source, diags, mod, DSL_DIR, 0);
  const sources = readModule(moduleCx, mod);
  if (sources.length === 0) diags.error('NO_PROGRAM', 0, 0);
  const licenses = new Set(sources.map((s) => s.license));
  if (licenses.size > 1) diags.error('BAD_DECL', 0, 0, 'all programs of a file must have the same license');
  const programs: CompiledProgram[] = [];
  for (const src of sources) {
    const fn: IrFunction = newFunction(src.name);
    const cx = new Cx(fn, checker, source, diags, mod, DSL_DIR, src.fault);
    const body = src.body;
    const param = body.parameters[0];
    const ctxReg = cx.reg();
    cx.emit({ op: 'ctx', dst: ctxReg, loc: cx.loc(body) });
    if (param !== undefined && ts.isIdentifier(param.name)) {
      const sym = cx.symbolOf(param.name);
      if (sym) cx.bindings.set(sym, { kind: 'value', value: { kind: 'ctx', reg: ctxReg } });
    }
    cx.frames.push({ name: src.name, exit: undefined, result: undefined, returns: INT_TYPES.i32 });
    if (ts.isBlock(body.body)) {
      for (const s of body.body.statements) lowerStatement(cx, s);
      if (cx.reachable) cx.error('TYPE_ERROR', body, `program ${src.name} can end without a return`);
    } else {
      const v = lowerExpr(cx, body.body);
      if (v.kind === 'int' && cx.checkFits(v, INT_TYPES.i32, body.body))
        cx.terminate({ op: 'ret', value: cx.operand(v, cx.loc(body.body)), loc: cx.loc(body.body) });
    }
    if (diags.count > 0) continue;
    programs.push(backend(fn, src.name, src.section));
  }
  // the noinline functions called, and those they call
  const subprograms: CompiledProgram[] = [];
  const done = new Set<ts.Symbol>();
  /** Subprograms with a reachable fault block. */
  const faulting = new Set<ts.Symbol>();
  for (let more = true; more && diags.count === 0; ) {
    more = false;
    for (const sym of [...mod.called]) {
      if (done.has(sym)) continue;
      done.add(sym);
      more = true;
      const sub = mod.subprograms.get(sym);
      if (sub === undefined) continue;
      const sig = signatureOf(moduleCx, sub.fn, sub.name, true);
      if (sig === undefined) continue;
      const fn: IrFunction = newFunction(sub.name);
      const cx = new Cx(fn, checker, source, diags, mod, DSL_DIR, faultSentinel(sig));
      lowerSubprogramBody(cx, sub.fn, sub.name, sig, mod.callbacks.has(sym));
      if (diags.count > 0) continue;
      const faults = cx.faultBlockIds();
      // a fault comes back one way only: the sentinel to a call, the flag to bpfLoop (checked once
      // every caller is known, below)
      const mayFault = (order: readonly number[]): void => {
        if (order.some((id) => faults.has(id))) faulting.add(sym);
      };
      subprograms.push({
        ...backend(fn, sub.name, '.text', mayFault),
        params: sub.fn.parameters.map((p) => p.name.getText(source)),
      });
    }
  }
  for (const sym of faulting) {
    const sub = mod.subprograms.get(sym);
    if (sub !== undefined && mod.callbacks.has(sym) && mod.direct.has(sym))
      diags.error('CALLBACK_FAULT', sub.fn.getStart(source), sub.fn.getEnd(), sub.name);
  }
  // the combined stack of each call chain (frames rounded to 32 bytes, as the kernel counts them)
  const byName = new Map(subprograms.map((p) => [p.name, p]));
  const declOf = (name: string) => [...mod.subprograms.values()].find((x) => x.name === name)?.fn;
  const depth = (p: CompiledProgram, chain: readonly string[]): number => {
    let deepest = 0;
    for (const r of p.relocs) {
      // a callback runs on a frame above its caller's, as a call does (the kernel counts both)
      if (!r.call && !r.funcAddr) continue;
      const callee = byName.get(r.symbol);
      if (callee === undefined) continue;
      if (chain.includes(r.symbol)) {
        const at = declOf(r.symbol) ?? source;
        diags.error('RECURSION', at.getStart(source), at.getEnd(), r.symbol);
        continue;
      }
      deepest = Math.max(deepest, depth(callee, [...chain, r.symbol]));
    }
    return Math.ceil(Math.max(p.stackSize, 1) / 32) * 32 + deepest;
  };
  for (const p of programs) {
    const total = depth(p, [p.name]);
    const src = sources.find((x) => x.name === p.name);
    if (total > 512 && src !== undefined)
      diags.error('STACK_OVERFLOW', src.node.getStart(source), src.node.getEnd(), `${total}`);
  }
  const ordered = [...diags.list].sort((a, b) => a.start - b.start || a.code - b.code);
  return {
    file,
    license: sources[0]?.license ?? '',
    programs: ordered.length > 0 ? [] : programs,
    subprograms: ordered.length > 0 ? [] : subprograms,
    maps: [...mod.maps.values()],
    rodata: Uint8Array.from(mod.rodata.bytes),
    diagnostics: ordered,
    lines: text.split('\n'),
  };
};
