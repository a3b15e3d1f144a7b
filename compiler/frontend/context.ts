/**
 * Lowering state shared by the statement, expression and intrinsic lowerers: the IR function being
 * built, the current block, bindings, ring-buffer references alive on the current path, the
 * diagnostics sink, and small emit helpers.
 */
import ts from 'typescript';
import type { DiagnosticName, DiagnosticSink } from '../diagnostics.ts';
import {
  type Block,
  type IrFunction,
  type IrInsn,
  type Loc,
  newBlock,
  type Operand,
  type Terminator,
  type VReg,
} from '../ir/ir.ts';
import { fitsRegister, fmtRange, type IntType, type Range, SAFE, within, rangeOf } from '../ir/range.ts';
import type { Snapshot } from './narrow.ts';
import type { FunctionNode } from './stmt.ts';
import type { Binding, IntValue, MapInfo, Ref, Value } from './values.ts';

/** An inlined function's (or the program's) return target. */
export interface Frame {
  readonly name: string;
  /** The program body returns with `ret`; inlined functions jump to `exit` with the value in `result`. */
  readonly exit: Block | undefined;
  readonly result: VReg | undefined;
  readonly returns: IntType | 'bool' | 'void';
}

/** Where `break` and `continue` go: a loop, or a `switch` (no `continue` target: the enclosing loop's). */
export interface LoopTarget {
  readonly brk: Block;
  readonly cont: Block | undefined;
  readonly live: ReadonlySet<Ref>;
  /** A `while`/`do` loop whose counter update ends the body: `continue` would skip it (DSL1002). */
  readonly noContinue?: string;
  /** A switch collects the ranges at each `break` (the loops' exits take the widened entry ranges). */
  readonly exits?: Snapshot[];
}

export interface ModuleInfo {
  readonly maps: Map<ts.Symbol, MapInfo>;
  readonly structs: Map<ts.Symbol, Value>;
  readonly consts: Map<ts.Symbol, Value>;
  readonly functions: Map<ts.Symbol, FunctionNode>;
  /** `noinline(...)` functions: compiled once and called (bpf-to-bpf); the names of those called. */
  readonly subprograms: Map<ts.Symbol, { readonly name: string; readonly fn: FunctionNode }>;
  readonly called: Set<ts.Symbol>;
  /** Those called with BPF_PSEUDO_CALL (a fault comes back as the sentinel). */
  readonly direct: Set<ts.Symbol>;
  /** Those passed to bpfLoop (a fault comes back through the loop's context: lowerLoopCall). */
  readonly callbacks: Set<ts.Symbol>;
  /** .rodata contents, built as strings are used. */
  readonly rodata: { bytes: number[]; strings: Map<string, number> };
}

export class Cx {
  readonly fn: IrFunction;
  readonly checker: ts.TypeChecker;
  readonly source: ts.SourceFile;
  readonly diags: DiagnosticSink;
  readonly module: ModuleInfo;
  readonly dslDir: string;
  block: Block;
  /** False after return/break/continue until a new block starts. */
  reachable = true;
  readonly bindings = new Map<ts.Symbol, Binding>();
  /** Records reserved and not yet released on the current path. */
  live = new Set<Ref>();
  readonly frames: Frame[] = [];
  readonly loops: LoopTarget[] = [];
  readonly inlining = new Set<FunctionNode>();
  /** Loop variables being iterated (assignments to them in the body are refused). */
  readonly loopVars = new Set<ts.Symbol>();
  readonly fault: number;
  /**
   * In a bpfLoop callback: the register holding the callback context (R2), the caller's fault flag. A
   * fault there sets the flag and ends the loop (returns 1), and the caller faults in turn; a callback's
   * result must be 0 or 1, so it cannot return a sentinel.
   */
  faultFlag: VReg | undefined;
  #faults = new Map<string, Block>();
  #refs = 0;

  constructor(
    fn: IrFunction,
    checker: ts.TypeChecker,
    source: ts.SourceFile,
    diags: DiagnosticSink,
    module: ModuleInfo,
    dslDir: string,
    fault: number,
  ) {
    this.fn = fn;
    this.checker = checker;
    this.source = source;
    this.diags = diags;
    this.module = module;
    this.dslDir = dslDir;
    this.fault = fault;
    this.block = newBlock(fn);
    this.block.seq = fn.nextSeq++;
  }

  error(name: DiagnosticName, node: ts.Node, ...args: string[]): Value {
    this.diags.error(name, node.getStart(this.source), node.getEnd(), ...args);
    return { kind: 'error' };
  }

  text(node: ts.Node): string {
    const t = node.getText(this.source);
    return t.length > 60 ? `${t.slice(0, 57)}...` : t;
  }

  loc(node: ts.Node): Loc {
    const { line, character } = this.source.getLineAndCharacterOfPosition(node.getStart(this.source));
    return { line: line + 1, col: character + 1 };
  }

  reg(): VReg {
    return this.fn.nextReg++;
  }

  emit(insn: IrInsn): void {
    if (this.reachable) this.block.insns.push(insn);
  }

  terminate(term: Terminator): void {
    if (this.reachable) this.block.term = term;
    this.reachable = false;
  }

  newBlock(): Block {
    return newBlock(this.fn);
  }

  /** Continues lowering in `b` (reachable if something jumps there). */
  enter(b: Block): void {
    this.block = b;
    if (b.seq === Number.POSITIVE_INFINITY) b.seq = this.fn.nextSeq++;
    this.reachable = true;
  }

  jump(target: Block, loc: Loc | undefined): void {
    this.terminate({ op: 'jmp', target: target.id, loc });
  }

  /** Bytes of stack for the frontend's own use (8-aligned); returns the offset below R10. */
  stackAlloc(size: number): number {
    this.fn.stackSize += Math.ceil(size / 8) * 8;
    return this.fn.stackSize;
  }

  newRef(name: string, node: ts.Node, reg: VReg): Ref {
    return { id: this.#refs++, name, start: node.getStart(this.source), end: node.getEnd(), reg };
  }

  /** The fault blocks made so far (a callback also called directly must reach none once optimised). */
  faultBlockIds(): ReadonlySet<number> {
    return new Set([...this.#faults.values()].map((b) => b.id));
  }

  /** The block that ends the program with the fault value, releasing the records alive here. */
  faultBlock(loc: Loc | undefined): Block {
    const live = [...this.live].sort((a, b) => a.id - b.id);
    const key = live.map((r) => r.id).join(',');
    let b = this.#faults.get(key);
    if (b === undefined) {
      b = this.newBlock();
      for (const r of live) {
        b.insns.push({
          op: 'call',
          helper: 133,
          name: 'bpf_ringbuf_discard',
          args: [{ reg: r.reg }, { imm: 0 }],
          dst: undefined,
          loc,
        });
      }
      if (this.faultFlag !== undefined) {
        b.insns.push({ op: 'store', size: 8, base: this.faultFlag, off: 0, src: { imm: 1 }, loc });
        b.term = { op: 'ret', value: { imm: 1 }, loc };
      } else if (this.fault >= -(2 ** 31) && this.fault < 2 ** 31)
        b.term = { op: 'ret', value: { imm: this.fault }, loc };
      else {
        // a subprogram's fault sentinel (2^31) does not fit the immediate
        const r = this.reg();
        b.insns.push({ op: 'const', dst: r, value: BigInt(this.fault), loc });
        b.term = { op: 'ret', value: { reg: r }, loc };
      }
      this.#faults.set(key, b);
    }
    return b;
  }

  /** The value in a register (materialising constants). */
  toReg(v: IntValue | Extract<Value, { kind: 'bool' }>, loc: Loc | undefined): VReg {
    if (v.reg !== undefined) return v.reg;
    const r = this.reg();
    const value = v.kind === 'int' ? (v.value ?? 0n) : v.value ? 1n : 0n;
    this.emit({ op: 'const', dst: r, value, loc });
    return r;
  }

  /** The value as an operand: an immediate when it fits the sign-extended 32-bit field. */
  operand(v: IntValue, loc: Loc | undefined): Operand {
    if (v.reg === undefined && v.value !== undefined) {
      const x = BigInt.asIntN(64, v.value);
      if (x >= -(2n ** 31n) && x < 2n ** 31n) return { imm: Number(x) };
    }
    return { reg: this.toReg(v, loc) };
  }

  /** Reports when an integer cannot be stored in `type`; true when it fits. */
  checkFits(v: IntValue, type: IntType, node: ts.Node, expr?: string): boolean {
    if (within(v.range, rangeOf(type))) return true;
    const e = expr ?? this.text(node);
    this.error('RANGE', node, `\`${e}\``, fmtRange(v.range), type.name, `${type.name}(${e})`);
    return false;
  }

  /** Number-typed intermediates must stay exact in JavaScript. */
  checkExact(r: Range, big: boolean, node: ts.Node): boolean {
    if (big || within(r, SAFE)) return true;
    this.error('INEXACT', node, `\`${this.text(node)}\``, fmtRange(r));
    return false;
  }

  /** A bigint operand of a non-ring operation must be exact in a register. */
  checkRegister(v: IntValue, node: ts.Node): boolean {
    if (fitsRegister(v.range)) return true;
    this.error(
      'RANGE',
      node,
      `\`${this.text(node)}\``,
      fmtRange(v.range),
      'a 64-bit register',
      `u64(${this.text(node)})`,
    );
    return false;
  }

  /** Is this symbol declared in the DSL (compiler/dsl)? Its exported name, or undefined. */
  dslName(sym: ts.Symbol | undefined): string | undefined {
    let s = sym;
    if (s !== undefined && s.flags & ts.SymbolFlags.Alias) s = this.checker.getAliasedSymbol(s);
    const decl = s?.declarations?.[0];
    if (decl === undefined) return undefined;
    return decl.getSourceFile().fileName.startsWith(this.dslDir) ? s?.name : undefined;
  }

  symbolOf(node: ts.Node): ts.Symbol | undefined {
    const s = this.checker.getSymbolAtLocation(node);
    return s !== undefined && s.flags & ts.SymbolFlags.Alias ? this.checker.getAliasedSymbol(s) : s;
  }
}
