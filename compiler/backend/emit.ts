/**
 * Instruction selection and layout: IR + allocation → BPF instructions (bpf/isa), with jump offsets
 * resolved, relocations for maps and .rodata, and one line record per source line change.
 */
import { type CondName, type Insn, insnNamed, lddw } from '../../bpf/isa/index.ts';
import type { Block, IrFunction, IrInsn, Loc, Operand, Terminator, VReg } from '../ir/ir.ts';
import type { Allocation } from './regalloc.ts';

export interface Reloc {
  readonly insn: number;
  readonly symbol: string;
  readonly section?: boolean;
  /** A bpf-to-bpf call of the subprogram `symbol` (its imm is the distance once linked). */
  readonly call?: boolean;
  /** The address of the subprogram `symbol` (lddw BPF_PSEUDO_FUNC once linked): a callback. */
  readonly funcAddr?: boolean;
}

export interface Emitted {
  readonly insns: Insn[];
  readonly relocs: Reloc[];
  /** Source location of each instruction (undefined where none). */
  readonly locs: (Loc | undefined)[];
  readonly stackSize: number;
}

const S0 = 0;
const S1 = 5;
const FP = 10;

const INVERT: Record<CondName, CondName | undefined> = {
  jeq: 'jne',
  jne: 'jeq',
  jlt: 'jge',
  jge: 'jlt',
  jle: 'jgt',
  jgt: 'jle',
  jslt: 'jsge',
  jsge: 'jslt',
  jsle: 'jsgt',
  jsgt: 'jsle',
  jset: undefined,
};

const COMMUTATIVE = new Set(['add', 'mul', 'and', 'or', 'xor']);

export const emitFunction = (f: IrFunction, order: readonly number[], alloc: Allocation): Emitted => {
  const insns: Insn[] = [];
  const locs: (Loc | undefined)[] = [];
  const relocs: Reloc[] = [];
  /** Jumps to patch: instruction index → target block (or, with `stub`, an edge stub's index). */
  const fixups: { at: number; block: number; field: 'off'; stub?: number }[] = [];
  /** Edge stubs placed after the blocks: stores back, then a jump to `block`. */
  const stubs: { readonly stores: readonly Insn[]; readonly block: number; readonly loc: Loc | undefined }[] = [];
  const blockStart = new Map<number, number>();
  const spillBase = Math.ceil(f.stackSize / 8) * 8;
  const stackSize = spillBase + alloc.slots * 8;
  let loc: Loc | undefined;

  const put = (i: Insn): number => {
    insns.push(i);
    locs.push(loc);
    return insns.length - 1;
  };
  const slotOff = (slot: number): number => -(spillBase + 8 * (slot + 1));
  const phys = (v: VReg): number | undefined => {
    const w = alloc.where.get(v);
    return w !== undefined && 'reg' in w ? w.reg : undefined;
  };
  /** The register holding v, reloading a spilled v into `scratch`. */
  const read = (v: VReg, scratch: number): number => {
    const w = alloc.where.get(v);
    if (w === undefined) throw new Error(`internal: v${v} has no location`);
    if ('reg' in w) return w.reg;
    put(insnNamed('ldxdw', { dst: scratch, src: FP, off: slotOff(w.slot) }));
    return scratch;
  };
  /** Where to compute v (its register, or `scratch` when spilled), and the store after. */
  const target = (v: VReg, scratch: number): { reg: number; done: () => void } => {
    const w = alloc.where.get(v);
    if (w === undefined) return { reg: scratch, done: () => {} };
    if ('reg' in w) return { reg: w.reg, done: () => {} };
    return { reg: scratch, done: () => void put(insnNamed('stxdw', { dst: FP, src: scratch, off: slotOff(w.slot) })) };
  };
  const mov = (dst: number, src: number): void => {
    if (dst !== src) put(insnNamed('mov', { dst, src }, 'X'));
  };
  const loadConst = (dst: number, value: bigint): void => {
    const v = BigInt.asIntN(64, value);
    if (v >= -(2n ** 31n) && v < 2n ** 31n) put(insnNamed('mov', { dst, imm: Number(v) }, 'K'));
    else if (v >= 0n && v < 2n ** 32n) put(insnNamed('mov32', { dst, imm: Number(BigInt.asIntN(32, v)) }, 'K'));
    else put(lddw(dst, v));
  };
  const operand = (o: Operand, scratch: number): { reg: number } | { imm: number } =>
    'imm' in o ? o : { reg: read(o.reg, scratch) };

  const SIZE = { 1: 'b', 2: 'h', 4: 'w', 8: 'dw' } as const;

  const emitInsn = (i: IrInsn): void => {
    switch (i.op) {
      case 'const': {
        const t = target(i.dst, S0);
        loadConst(t.reg, i.value);
        t.done();
        return;
      }
      case 'mov': {
        const t = target(i.dst, S0);
        mov(t.reg, read(i.src, t.reg));
        t.done();
        return;
      }
      case 'ctx': {
        const t = target(i.dst, S0);
        mov(t.reg, 1);
        t.done();
        return;
      }
      case 'arg':
        // all of the entry block's arguments at its first one, as one parallel move
        if (!argsMoved) entryMoves();
        return;
      case 'alu': {
        const t = target(i.dst, S0);
        let a: VReg = i.a;
        let b: Operand = i.b;
        if ('reg' in b && phys(b.reg) === t.reg && phys(a) !== t.reg && COMMUTATIVE.has(i.alu))
          [a, b] = [b.reg, { reg: a }];
        let bo = operand(b, S1);
        if ('reg' in bo && bo.reg === t.reg && phys(a) !== t.reg) {
          mov(S1, bo.reg);
          bo = { reg: S1 };
        }
        mov(t.reg, read(a, t.reg));
        const name = i.w === 32 ? `${i.alu}32` : i.alu;
        put(
          'imm' in bo
            ? insnNamed(name, { dst: t.reg, imm: bo.imm }, 'K')
            : insnNamed(name, { dst: t.reg, src: bo.reg }, 'X'),
        );
        t.done();
        return;
      }
      case 'neg': {
        const t = target(i.dst, S0);
        mov(t.reg, read(i.a, t.reg));
        put(insnNamed('neg', { dst: t.reg }));
        t.done();
        return;
      }
      case 'load': {
        const base = read(i.base, S1);
        const t = target(i.dst, S0);
        put(insnNamed(`ldx${SIZE[i.size]}`, { dst: t.reg, src: base, off: i.off }));
        t.done();
        return;
      }
      case 'store': {
        const base = read(i.base, S0);
        // no BPF_ST with an immediate: LLVM before 18 cannot disassemble it
        let src: number;
        if ('imm' in i.src) {
          loadConst(S1, BigInt(i.src.imm));
          src = S1;
        } else src = read(i.src.reg, S1);
        put(insnNamed(`stx${SIZE[i.size]}`, { dst: base, src, off: i.off }));
        return;
      }
      case 'stack': {
        const t = target(i.dst, S0);
        mov(t.reg, FP);
        put(insnNamed('add', { dst: t.reg, imm: -i.off }, 'K'));
        t.done();
        return;
      }
      case 'map':
      case 'rodata': {
        const t = target(i.dst, S0);
        const at = put(lddw(t.reg, i.op === 'rodata' ? BigInt(i.offset) : 0n));
        relocs.push(i.op === 'map' ? { insn: at, symbol: i.map } : { insn: at, symbol: '.rodata', section: true });
        t.done();
        return;
      }
      case 'funcaddr': {
        // imm 0 until linked; in the object, the function's offset in .text (relocated as clang does)
        const t = target(i.dst, S0);
        const at = put(lddw(t.reg, 0n));
        relocs.push({ insn: at, symbol: i.fn, funcAddr: true });
        t.done();
        return;
      }
      case 'call': {
        parallelMove(i.args);
        if (i.fn === undefined) put(insnNamed('call', { imm: i.helper }));
        else {
          // BPF_PSEUDO_CALL; imm -1 until linked, as clang leaves it beside its R_BPF_64_32
          const at = put(insnNamed('call_local', { imm: -1 }));
          relocs.push({ insn: at, symbol: i.fn, call: true });
        }
        if (i.dst !== undefined) {
          const t = target(i.dst, S0);
          mov(t.reg, 0);
          t.done();
        }
        return;
      }
    }
  };

  /**
   * A subprogram's arguments from R1..R5 to their locations: slots first (every source is still
   * intact), then register moves in an order that reads each source before it is overwritten (a
   * cycle goes through R0).
   */
  let argsMoved = false;
  const entryMoves = (): void => {
    argsMoved = true;
    const entry = f.blocks[order[0] as number] as Block;
    const args = entry.insns.filter((x): x is Extract<IrInsn, { op: 'arg' }> => x.op === 'arg');
    const pending: { dst: number; src: number }[] = [];
    for (const a of args) {
      const w = alloc.where.get(a.dst);
      if (w === undefined) continue;
      if ('slot' in w) put(insnNamed('stxdw', { dst: FP, src: a.index + 1, off: slotOff(w.slot) }));
      else if (w.reg !== a.index + 1) pending.push({ dst: w.reg, src: a.index + 1 });
    }
    while (pending.length > 0) {
      const k = pending.findIndex((m) => !pending.some((o) => o !== m && o.src === m.dst));
      if (k >= 0) {
        const [m] = pending.splice(k, 1);
        if (m) mov(m.dst, m.src);
      } else {
        const m = pending[0] as { dst: number; src: number };
        mov(S0, m.src);
        for (const o of pending) if (o.src === m.src) o.src = S0;
      }
    }
  };

  /** Moves call arguments into R1..R5 without clobbering a source before it is read. */
  const parallelMove = (args: readonly Operand[]): void => {
    const pending: { dst: number; src: number }[] = [];
    const late: (() => void)[] = [];
    args.forEach((a, k) => {
      const dst = k + 1;
      if ('imm' in a) late.push(() => loadConst(dst, BigInt(a.imm)));
      else {
        const p = phys(a.reg);
        if (p === undefined) late.push(() => void read(a.reg, dst));
        else if (p !== dst) pending.push({ dst, src: p });
      }
    });
    while (pending.length > 0) {
      const k = pending.findIndex((m) => !pending.some((o) => o !== m && o.src === m.dst));
      if (k >= 0) {
        const [m] = pending.splice(k, 1);
        if (m) mov(m.dst, m.src);
      } else {
        // a cycle: park one source in R0
        const m = pending[0] as { dst: number; src: number };
        mov(S0, m.src);
        for (const o of pending) if (o.src === m.src) o.src = S0;
      }
    }
    for (const l of late) l();
  };

  const emitTerm = (t: Terminator, next: number | undefined): void => {
    if (t.op === 'ret') {
      if ('imm' in t.value) loadConst(0, BigInt(t.value.imm));
      else mov(0, read(t.value.reg, S0));
      put(insnNamed('exit'));
      return;
    }
    if (t.op === 'jmp') {
      if (t.target !== next) fixups.push({ at: put(insnNamed('ja')), block: t.target, field: 'off' });
      return;
    }
    const a = read(t.a, S0);
    const b = operand(t.b, S1);
    // A spilled operand is compared in a scratch register, which the verifier narrows; verifiers that
    // do not tie a stack slot to the register it was reloaded into (ours, kernels before 6.8) would
    // keep the slot's wider range for later reloads, and the frontend's range narrowing relies on
    // the narrowed one. So each edge stores the compared registers back (the same values).
    const back: Insn[] = [];
    const wa = alloc.where.get(t.a);
    if (wa !== undefined && 'slot' in wa) back.push(insnNamed('stxdw', { dst: FP, src: a, off: slotOff(wa.slot) }));
    const wb = 'reg' in t.b ? alloc.where.get(t.b.reg) : undefined;
    if (wb !== undefined && 'slot' in wb && 'reg' in b)
      back.push(insnNamed('stxdw', { dst: FP, src: b.reg, off: slotOff(wb.slot) }));
    const jump = (cond: CondName, to: number): void => {
      const i =
        'imm' in b ? insnNamed(cond, { dst: a, imm: b.imm }, 'K') : insnNamed(cond, { dst: a, src: b.reg }, 'X');
      if (back.length === 0) fixups.push({ at: put(i), block: to, field: 'off' });
      else {
        fixups.push({ at: put(i), block: to, field: 'off', stub: stubs.length });
        stubs.push({ stores: back, block: to, loc });
      }
    };
    const fallThrough = (): void => {
      for (const x of back) put(x);
    };
    const inv = INVERT[t.cond];
    if (t.f === next) {
      jump(t.cond, t.t);
      fallThrough();
    } else if (t.t === next && inv !== undefined) {
      jump(inv, t.f);
      fallThrough();
    } else {
      jump(t.cond, t.t);
      fallThrough();
      fixups.push({ at: put(insnNamed('ja')), block: t.f, field: 'off' });
    }
  };

  order.forEach((id, k) => {
    const b = f.blocks[id] as Block;
    blockStart.set(id, insns.length);
    for (const i of b.insns) {
      loc = i.loc ?? loc;
      emitInsn(i);
    }
    if (b.term === undefined) throw new Error(`internal: block ${id} has no terminator`);
    loc = b.term.loc ?? loc;
    emitTerm(b.term, order[k + 1]);
  });
  const stubStart: number[] = [];
  for (const st of stubs) {
    loc = st.loc;
    stubStart.push(insns.length);
    for (const x of st.stores) put(x);
    fixups.push({ at: put(insnNamed('ja')), block: st.block, field: 'off' });
  }
  // resolve jumps: offsets count slots (lddw takes two)
  const slotOf: number[] = [];
  let s = 0;
  for (const i of insns) {
    slotOf.push(s);
    s += i.spec.slots;
  }
  for (const fx of fixups) {
    const from = slotOf[fx.at] as number;
    const to = slotOf[
      fx.stub === undefined ? (blockStart.get(fx.block) as number) : (stubStart[fx.stub] as number)
    ] as number;
    const old = insns[fx.at] as Insn;
    insns[fx.at] = { ...old, off: to - from - 1 };
  }
  return { insns, relocs, locs, stackSize };
};
