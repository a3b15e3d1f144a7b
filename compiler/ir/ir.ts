/**
 * The typed IR: a control-flow graph of basic blocks over virtual registers. Values in registers
 * obey one invariant the frontend guarantees: a `number`-typed value is held as its exact value
 * (two's complement, 64 bits); a `bigint`-typed value modulo 2^64. So 32-bit ALU operations are used
 * only where their zero-extended result equals the exact one (`w: 32`).
 */
import type { AluName, CondName } from '../../bpf/isa/index.ts';

export type VReg = number;

export interface Loc {
  readonly line: number;
  readonly col: number;
}

export type Operand = { readonly reg: VReg } | { readonly imm: number };

export type IrAluOp = Exclude<AluName, 'movsx' | 'mov' | 'sdiv' | 'smod'>;

export type IrInsn = (
  | { readonly op: 'const'; readonly dst: VReg; readonly value: bigint }
  | { readonly op: 'mov'; readonly dst: VReg; readonly src: VReg }
  | {
      readonly op: 'alu';
      readonly alu: IrAluOp;
      readonly w: 32 | 64;
      readonly dst: VReg;
      readonly a: VReg;
      readonly b: Operand;
    }
  | { readonly op: 'neg'; readonly dst: VReg; readonly a: VReg }
  | { readonly op: 'load'; readonly size: 1 | 2 | 4 | 8; readonly dst: VReg; readonly base: VReg; readonly off: number }
  | {
      readonly op: 'store';
      readonly size: 1 | 2 | 4 | 8;
      readonly base: VReg;
      readonly off: number;
      readonly src: Operand;
    }
  /** Address of a stack area (`off` bytes below the frame pointer). */
  | { readonly op: 'stack'; readonly dst: VReg; readonly off: number }
  /** Address of a map (lddw with a relocation) or of `.rodata` + offset. */
  | { readonly op: 'map'; readonly dst: VReg; readonly map: string }
  | { readonly op: 'rodata'; readonly dst: VReg; readonly offset: number }
  /** Address of the subprogram `fn` (lddw BPF_PSEUDO_FUNC): a bpf_loop callback. */
  | { readonly op: 'funcaddr'; readonly dst: VReg; readonly fn: string }
  /** Helper call (or, with `fn`, a bpf-to-bpf call); args go to R1..R5, the result (if any) comes from R0. */
  | {
      readonly op: 'call';
      readonly helper: number;
      readonly name: string;
      /** A subprogram of the object: BPF_PSEUDO_CALL, relocated against its symbol. */
      readonly fn?: string;
      readonly args: readonly Operand[];
      readonly dst: VReg | undefined;
    }
  /** The program's context pointer (R1 at entry). */
  | { readonly op: 'ctx'; readonly dst: VReg }
  /** A subprogram's argument `index` (R1 + index at entry; only at the start of the entry block). */
  | { readonly op: 'arg'; readonly dst: VReg; readonly index: number }
) & { readonly loc: Loc | undefined };

export type Terminator = (
  | { readonly op: 'jmp'; readonly target: number }
  | {
      readonly op: 'br';
      readonly cond: CondName;
      readonly a: VReg;
      readonly b: Operand;
      readonly t: number;
      readonly f: number;
    }
  | { readonly op: 'ret'; readonly value: Operand }
) & { readonly loc: Loc | undefined };

export interface Block {
  readonly id: number;
  /**
   * Layout rank: the order in which the frontend started filling blocks, i.e. source order (a
   * condition's continuation right after the condition, not after the arms created before it).
   * Blocks never entered (fault exits) rank last.
   */
  seq: number;
  readonly insns: IrInsn[];
  term: Terminator | undefined;
}

export interface IrFunction {
  readonly name: string;
  readonly blocks: Block[];
  /** Stack bytes used by the frontend's own areas (buffers, keys); spills come on top. */
  stackSize: number;
  nextReg: number;
  /** Next layout rank to hand out (Block.seq). */
  nextSeq: number;
}

export const newFunction = (name: string): IrFunction => ({ name, blocks: [], stackSize: 0, nextReg: 0, nextSeq: 0 });

export const newBlock = (f: IrFunction): Block => {
  const b: Block = { id: f.blocks.length, seq: Number.POSITIVE_INFINITY, insns: [], term: undefined };
  f.blocks.push(b);
  return b;
};

export const successors = (t: Terminator): number[] => (t.op === 'jmp' ? [t.target] : t.op === 'br' ? [t.t, t.f] : []);

/** Registers an instruction reads. */
export const usesOf = (i: IrInsn): VReg[] => {
  const r = (o: Operand): VReg[] => ('reg' in o ? [o.reg] : []);
  switch (i.op) {
    case 'mov':
      return [i.src];
    case 'alu':
      return [i.a, ...r(i.b)];
    case 'neg':
      return [i.a];
    case 'load':
      return [i.base];
    case 'store':
      return [i.base, ...r(i.src)];
    case 'call':
      return i.args.flatMap(r);
    default:
      return [];
  }
};

export const defOf = (i: IrInsn): VReg | undefined => (i.op === 'store' ? undefined : i.op === 'call' ? i.dst : i.dst);

export const termUses = (t: Terminator): VReg[] =>
  t.op === 'br' ? [t.a, ...('reg' in t.b ? [t.b.reg] : [])] : t.op === 'ret' && 'reg' in t.value ? [t.value.reg] : [];
