/**
 * Random DSL programs for the native-vs-compiled property test, biased toward buffer parsing: loads
 * at constant, masked, loop-counter and data-dependent offsets (some out of bounds, so faults are
 * exercised), stores, bounded loops with break/continue, nested branches, early returns, ternaries,
 * short-circuit conditions, inlined functions, 8–64-bit integer wraps and signed loads.
 *
 * Every program is valid DSL by construction: each stored value is wrapped to its variable's type,
 * products and shifts are kept inside the ranges the compiler proves. A generated program that the
 * compiler refuses, or that behaves differently natively and compiled, is a finding.
 */

/** A deterministic PRNG (mulberry32), seeded by fast-check. */
export const rng = (seed: number) => {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p: number): boolean => next() < p,
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T,
  };
};

type Rng = ReturnType<typeof rng>;

const NUM_TYPES = ['u32', 'i32', 'u8', 'u16', 'i8', 'i16'] as const;
type NumType = (typeof NUM_TYPES)[number];

interface Var {
  readonly name: string;
  readonly type: NumType | 'u64';
  readonly mutable: boolean;
}

/** Size of the input view the generated programs parse (small, so data-dependent offsets often fault). */
export const GEN_INPUT_SIZE = 64;

const LOADS = ['u8', 'u16', 'u32', 'i8', 'i16', 'i32'] as const;
const WIDTH: Record<string, number> = { u8: 1, u16: 2, u32: 4, i8: 1, i16: 2, i32: 4, u64: 8, i64: 8 };

class Gen {
  readonly r: Rng;
  readonly vars: Var[] = [];
  readonly loopVars: string[] = [];
  readonly out: string[] = [];
  #names = 0;
  #stmts = 0;
  loopDepth = 0;
  /** Per enclosing loop: a `while`/`do` (whose update ends the body, so no `continue`). */
  readonly loopKinds: ('for' | 'while')[] = [];
  constructor(r: Rng) {
    this.r = r;
  }
  fresh(p: string): string {
    return `${p}${this.#names++}`;
  }

  /** A byte offset: constant (sometimes past the end), masked, a loop counter, or read from the data. */
  offset(width: number, depth: number): string {
    const r = this.r;
    const lv = this.loopVars.length > 0 ? r.pick(this.loopVars) : undefined;
    switch (r.int(0, 5)) {
      case 0:
        return `${r.int(0, GEN_INPUT_SIZE - width + (r.chance(0.1) ? 4 : 0))}`;
      case 1:
        return `(${this.num(depth + 1)} & ${r.pick([7, 15, 31, 63])})`;
      case 2:
        return lv === undefined ? `${r.int(0, 8)}` : r.chance(0.5) ? lv : `${lv} + ${r.int(0, 40)}`;
      case 3:
        return `data.u8(${r.int(0, GEN_INPUT_SIZE - 1)})`;
      case 4:
        return `u32(${this.num(depth + 1)})`;
      default:
        return `${r.int(0, 7) * width}`;
    }
  }

  /** A number-typed expression whose value stays within the ranges the compiler proves. */
  num(depth: number): string {
    const r = this.r;
    const numVars = this.vars.filter((v) => v.type !== 'u64');
    if (depth >= 3 || r.chance(0.4)) {
      switch (r.int(0, 4)) {
        case 0:
          return r.pick(['0', '1', '7', '255', '0x7fffffff', '0xffffffff', '-1', '-128', `${r.int(0, 1000)}`]);
        case 1:
        case 2:
          if (numVars.length > 0 || this.loopVars.length > 0)
            return r.pick([...numVars.map((v) => v.name), ...this.loopVars]);
          return `${r.int(0, 300)}`;
        default: {
          const t = r.pick(LOADS);
          return `data.${t}(${this.offset(WIDTH[t] as number, depth)})`;
        }
      }
    }
    const a = (): string => this.num(depth + 1);
    switch (r.int(0, 15)) {
      case 0:
        return `u32(${a()} + ${a()})`;
      case 1:
        return `u32(${a()} - ${a()})`;
      case 2:
        return `Math.imul(${a()}, ${a()})`;
      case 3:
        return `(${a()} & ${a()})`;
      case 4:
        return `(${a()} | ${a()})`;
      case 5:
        return `(${a()} ^ ${a()})`;
      case 6:
        return `(${a()} << ${r.chance(0.5) ? r.int(0, 31) : `(${a()} & 31)`})`;
      case 7:
        return `(${a()} >> ${r.chance(0.5) ? r.int(0, 31) : `(${a()} & 31)`})`;
      case 8:
        return `(${a()} >>> ${r.chance(0.5) ? r.int(0, 31) : `(${a()} & 31)`})`;
      case 9:
        return `${r.pick(['udiv', 'umod'])}(u32(${a()}), ${r.chance(0.5) ? `${r.int(0, 300)}` : `u32(${a()})`})`;
      case 10:
        return `(${this.cond(depth + 1)} ? ${a()} : ${a()})`;
      case 11:
        return `${r.pick(NUM_TYPES)}(${a()})`;
      case 12:
        return `(${a()} & 0xfff) * (${a()} & 0xfff)`;
      case 13:
        return `(${a()} + ${a()})`;
      case 14:
        return `~${a()}`;
      default: {
        const big = this.vars.filter((v) => v.type === 'u64');
        const w = big.length > 0 && r.chance(0.6) ? r.pick(big).name : this.big(depth + 1);
        return `${r.pick(['u32', 'i32', 'u16'])}(${w})`;
      }
    }
  }

  /** A u64 expression (bigint). */
  big(depth: number): string {
    const r = this.r;
    const bigVars = this.vars.filter((v) => v.type === 'u64').map((v) => v.name);
    if (depth >= 3 || r.chance(0.35)) {
      switch (r.int(0, 3)) {
        case 0:
          return r.pick(['0n', '1n', '0xffffffffffffffffn', `${r.int(0, 100000)}n`]);
        case 1:
          return bigVars.length > 0 ? r.pick(bigVars) : `u64(${this.num(depth + 1)})`;
        case 2:
          return `data.u64(${this.offset(8, depth)})`;
        default:
          return `u64(${this.num(depth + 1)})`;
      }
    }
    const b = (): string => this.big(depth + 1);
    switch (r.int(0, 6)) {
      case 0:
        return `u64(${b()} + ${b()})`;
      case 1:
        return `u64(${b()} * ${b()})`;
      case 2:
        return `(${b()} ^ ${b()})`;
      case 3:
        return `(${b()} >> ${r.int(0, 63)}n)`;
      case 4:
        return `u64(${b()} << ${r.int(0, 63)}n)`;
      case 5:
        return `(${b()} & ${r.pick(['0xffn', '0xffffffffn', b()])})`;
      default:
        return `udiv(${b()}, ${r.chance(0.5) ? `${r.int(0, 1000)}n` : b()})`;
    }
  }

  cond(depth: number): string {
    const r = this.r;
    if (depth < 3 && r.chance(0.25)) {
      const c = (): string => this.cond(depth + 1);
      return r.pick([`(${c()} && ${c()})`, `(${c()} || ${c()})`, `!(${c()})`]);
    }
    const op = r.pick(['<', '<=', '>', '>=', '===', '!==']);
    // tsc refuses comparing two literals: the left side is never one
    const lit = (s: string): boolean => !/^(data\.\w+\([^?]*\)|[vcfj]\d+)$/.test(s);
    const side = (s: string, wrap: string): string => (lit(s) ? `${wrap}(${s})` : s);
    if (r.chance(0.15)) return `${side(this.big(depth + 1), 'u64')} ${op} ${this.big(depth + 1)}`;
    const litRhs = r.chance(0.4);
    const rhs = litRhs ? `${r.pick([0, 1, 16, 128, 255, 0x4550, -1])}` : this.num(depth + 1);
    const lhs = this.num(depth + 1);
    // nor a bare variable with === / !== (tsc narrows it to the other side's literal type, which can
    // make a later comparison of the same variable a type error)
    const narrows = (op === '===' || op === '!==') && /^[vcfj]\d+$/.test(lhs);
    return `${narrows ? `u32(${lhs})` : side(lhs, r.pick(['u32', 'i32']))} ${op} ${rhs}`;
  }

  wrapTo(t: NumType | 'u64'): string {
    return t === 'u64' ? `u64(${this.big(0)})` : `${t}(${this.num(0)})`;
  }

  line(indent: number, s: string): void {
    this.out.push(`${'  '.repeat(indent)}${s}`);
  }

  block(indent: number, n: number, depth: number): void {
    const mark = this.vars.length;
    for (let k = 0; k < n; k++) this.stmt(indent, depth);
    this.vars.length = mark;
  }

  stmt(indent: number, depth: number): void {
    const r = this.r;
    this.#stmts++;
    const mutable = this.vars.filter((v) => v.mutable);
    const kind = this.#stmts > 40 ? 0 : r.int(0, 16);
    switch (kind) {
      case 0:
      case 1: {
        const t = r.chance(0.15) ? 'u64' : r.pick(NUM_TYPES);
        const name = this.fresh('v');
        this.line(indent, `let ${name}: ${t} = ${this.wrapTo(t)};`);
        this.vars.push({ name, type: t, mutable: true });
        return;
      }
      case 2: {
        const name = this.fresh('c');
        const t = r.pick(NUM_TYPES);
        // wrapped, so TypeScript types it `number` (a literal type would make tsc refuse comparisons)
        this.line(indent, `const ${name} = ${t}(${this.num(1)});`);
        this.vars.push({ name, type: t, mutable: false });
        return;
      }
      case 3:
      case 4: {
        if (mutable.length === 0) {
          this.stmt(indent, depth);
          return;
        }
        const v = r.pick(mutable);
        this.line(indent, `${v.name} = ${this.wrapTo(v.type)};`);
        return;
      }
      case 5:
      case 6: {
        if (depth >= 3) {
          this.stmt(indent, depth + 1);
          return;
        }
        this.line(indent, `if (${this.cond(0)}) {`);
        this.block(indent + 1, r.int(1, 2), depth + 1);
        if (r.chance(0.5)) {
          this.line(indent, '} else {');
          this.block(indent + 1, r.int(1, 2), depth + 1);
        }
        this.line(indent, '}');
        return;
      }
      case 7: {
        if (depth >= 3 || this.loopDepth >= 2) {
          this.stmt(indent, depth + 1);
          return;
        }
        const i = this.fresh('j');
        const start = r.chance(0.8) ? 0 : r.int(1, 4);
        const limit = r.int(start + 1, start + (this.loopDepth === 0 ? 8 : 4));
        const extra = r.chance(0.3) ? ` && ${this.cond(1)}` : '';
        const step = r.chance(0.8) ? `${i}++` : `${i} += ${r.int(2, 3)}`;
        this.line(indent, `for (let ${i}: u32 = ${start}; ${i} < ${limit}${extra}; ${step}) {`);
        this.loopVars.push(i);
        this.loopDepth++;
        this.loopKinds.push('for');
        this.block(indent + 1, r.int(1, 2), depth + 1);
        if (r.chance(0.4)) this.line(indent + 1, `if (${this.cond(0)}) ${this.exitWord()};`);
        this.loopKinds.pop();
        this.loopDepth--;
        this.loopVars.pop();
        this.line(indent, '}');
        return;
      }
      case 8: {
        const t = r.pick(['U8', 'U16', 'U32', 'U64'] as const);
        const w = { U8: 1, U16: 2, U32: 4, U64: 8 }[t];
        const v = t === 'U64' ? `u64(${this.big(0)})` : `${t.toLowerCase()}(${this.num(0)})`;
        this.line(indent, `data.set${t}(${this.offset(w, 0)}, ${v});`);
        return;
      }
      case 9: {
        if (depth === 0) {
          this.stmt(indent, depth);
          return;
        }
        this.line(indent, `if (${this.cond(0)}) return ${this.ret()};`);
        return;
      }
      case 10: {
        const name = this.fresh('f');
        this.line(
          indent,
          r.pick([
            `const ${name} = mix(u32(${this.num(1)}), u32(${this.offset(1, 1)}));`,
            `const ${name} = mix(u32(${this.num(1)}), u32(${this.offset(1, 1)}));`,
            `const ${name} = twice(u32(${this.num(1)}));`,
            `const ${name} = peek(u32(${this.num(1)}), u32(${this.offset(1, 1)}));`,
            `const ${name} = roll(u32(${this.num(1)}), u32(${this.num(1)}) & 7);`,
          ]),
        );
        this.vars.push({ name, type: 'u32', mutable: false });
        return;
      }
      case 11:
        this.whileLoop(indent, depth);
        return;
      case 12:
        this.switchStmt(indent, depth);
        return;
      case 13:
        this.narrowed(indent, depth);
        return;
      case 14:
        this.subView(indent, depth);
        return;
      default: {
        if (this.loopDepth === 0 || depth === 0) {
          this.stmt(indent, depth);
          return;
        }
        this.line(indent, `if (${this.cond(0)}) ${this.exitWord()};`);
      }
    }
  }

  /** `break`, or `continue` where the innermost loop is a `for`. */
  exitWord(): string {
    return this.loopKinds[this.loopKinds.length - 1] === 'while' ? 'break' : this.r.pick(['break', 'continue']);
  }

  /** `while (j < N [&& c]) { ...; j++; }` or `do { ...; j += k; } while (j < N [&& c])`. */
  whileLoop(indent: number, depth: number): void {
    const r = this.r;
    if (depth >= 3 || this.loopDepth >= 2) {
      this.stmt(indent, depth + 1);
      return;
    }
    const i = this.fresh('j');
    const start = r.chance(0.7) ? 0 : r.int(1, 4);
    const limit = r.int(start + 1, start + (this.loopDepth === 0 ? 8 : 4));
    const test = `${i} < ${limit}${r.chance(0.3) ? ` && ${this.cond(1)}` : ''}`;
    const step = r.chance(0.8) ? `${i}++` : `${i} += ${r.int(2, 3)}`;
    const isDo = r.chance(0.4);
    this.line(indent, `let ${i}: u32 = ${start};`);
    this.line(indent, isDo ? 'do {' : `while (${test}) {`);
    this.loopVars.push(i);
    this.loopDepth++;
    this.loopKinds.push('while');
    this.block(indent + 1, r.int(1, 2), depth + 1);
    if (r.chance(0.3)) this.line(indent + 1, `if (${this.cond(0)}) break;`);
    this.line(indent + 1, `${step};`);
    this.loopKinds.pop();
    this.loopDepth--;
    this.loopVars.pop();
    this.line(indent, isDo ? `} while (${test});` : '}');
  }

  /** `switch` on a small value: grouped cases, `break`, `return`, `default`. */
  switchStmt(indent: number, depth: number): void {
    const r = this.r;
    if (depth >= 3) {
      this.stmt(indent, depth + 1);
      return;
    }
    const disc = r.chance(0.5) ? `(${this.num(1)} & 7)` : `${r.pick(['u32', 'i32', 'u8'])}(${this.num(1)})`;
    this.line(indent, `switch (${disc}) {`);
    const labels = [...new Set([0, 1, 2, 3, 5, 7, 255, -1].filter(() => r.chance(0.4)))];
    if (labels.length === 0) labels.push(r.int(0, 7));
    let k = 0;
    while (k < labels.length) {
      const group = labels.slice(k, k + r.int(1, 2));
      k += group.length;
      for (const g of group) this.line(indent + 1, `case ${g}:`);
      this.block(indent + 2, r.int(1, 2), depth + 1);
      this.line(indent + 2, r.chance(0.2) ? `return ${this.ret()};` : 'break;');
    }
    if (r.chance(0.6)) {
      this.line(indent + 1, 'default:');
      this.block(indent + 2, 1, depth + 1);
    }
    this.line(indent, '}');
  }

  /** A value narrowed by an early return, then used as an offset without a mask. */
  narrowed(indent: number, depth: number): void {
    const r = this.r;
    if (depth === 0 && r.chance(0.5)) {
      this.stmt(indent, depth);
      return;
    }
    const name = this.fresh('c');
    this.line(indent, `const ${name} = u32(${this.num(1)});`);
    this.vars.push({ name, type: 'u32', mutable: false });
    const lim = r.int(0, GEN_INPUT_SIZE - 1 + (r.chance(0.1) ? 4 : 0));
    const test = r.pick([
      `${name} > ${lim}`,
      `${name} >= ${lim + 1}`,
      `!(${name} <= ${lim})`,
      `${lim} < ${name}`,
      `${name} > ${lim} || ${this.cond(1)}`,
    ]);
    this.line(indent, `if (${test}) return ${this.ret()};`);
    const t = r.pick(LOADS);
    if (r.chance(0.5)) {
      const v = this.fresh('c');
      this.line(indent, `const ${v} = ${t}(data.${t}(${name}));`);
      this.vars.push({ name: v, type: t, mutable: false });
    } else this.line(indent, `data.setU8(${name}, u8(${this.num(1)}));`);
  }

  /** A sub-view of a run-time length, bounded by an early return; reads and a length test. */
  subView(indent: number, depth: number): void {
    const r = this.r;
    const o = this.fresh('c');
    const n = this.fresh('c');
    const v = this.fresh('s');
    const roomOff = r.int(0, GEN_INPUT_SIZE - 1);
    const maxLen = r.int(0, GEN_INPUT_SIZE - roomOff);
    this.line(indent, `const ${o} = u32(${this.offset(1, 1)});`);
    this.line(indent, `const ${n} = u32(${r.chance(0.5) ? `data.u8(${r.int(0, GEN_INPUT_SIZE - 1)})` : this.num(1)});`);
    this.vars.push({ name: o, type: 'u32', mutable: false }, { name: n, type: 'u32', mutable: false });
    this.line(indent, `if (${o} > ${roomOff} || ${n} > ${maxLen}) return ${this.ret()};`);
    this.line(indent, `const ${v} = data.sub(${o}, ${n});`);
    if (r.chance(0.5)) this.line(indent, `if (${v}.size < ${r.int(0, 8)}) return ${this.ret()};`);
    const t = r.pick(LOADS);
    const at = r.pick([`${r.int(0, 6)}`, `(${this.num(1)} & 7)`, ...this.loopVars]);
    const x = this.fresh('c');
    this.line(indent, `const ${x} = ${t}(${v}.${t}(${at}));`);
    this.vars.push({ name: x, type: t, mutable: false });
    if (depth < 2 && r.chance(0.4)) {
      const i = this.fresh('j');
      const acc = this.fresh('v');
      this.line(indent, `let ${acc}: u32 = 0;`);
      this.line(
        indent,
        `for (let ${i}: u32 = 0; ${i} < 8 && ${i} < ${v}.size; ${i}++) ${acc} = u32(${acc} + ${v}.u8(${i}));`,
      );
      this.vars.push({ name: acc, type: 'u32', mutable: true });
    }
    if (r.chance(0.3)) this.line(indent, `${v}.setU8(${r.int(0, 3)}, u8(${this.num(1)}));`);
  }

  ret(): string {
    return this.r.chance(0.7) ? `i32(${this.num(0)})` : `${this.num(1)} & 0x7fffffff`;
  }
}

/**
 * The functions every program may call: declarations and an arrow function (inlined; `roll` makes
 * helper calls inside a loop and calls `mix`, so values live across calls in inlined loops), and a
 * noinline one (a bpf-to-bpf call) whose 2-byte read faults at the last offset.
 */
const MIX = `const twice = (x: u32): u32 => u32(x + x);
const peek = noinline((x: u32, off: u32): u32 => {
  const data = input.lookup(0);
  if (data === null) return 0;
  if (off > 63) return x;
  return u32(x ^ data.u16(off));
});
function mix(x: u32, off: u32): u32 {
  const data = input.lookup(0);
  if (data === null) return 0;
  const h = u32(Math.imul(x ^ data.u8(off & 63), 0x01000193));
  if (h > 0x7fffffff) return u32(Math.imul(h ^ data.u8(u32(off + 1) & 63), 0x01000193));
  return h;
}
function roll(x: u32, n: u32): u32 {
  let h: u32 = x;
  for (let i: u32 = 0; i < 6 && i < n; i++) {
    const e = input.lookup(0);
    if (e === null) return h;
    h = u32(Math.imul(h ^ e.u8(u32(h + i) & 63), 0x01000193));
    if ((h & 15) === 3) break;
    if ((h & 15) === 5) continue;
    h = mix(h, h >>> 26);
  }
  return h;
}`;

/** One program's declaration: `export const NAME = program(...)`. */
export const genProgram = (name: string, seed: number, fault: number): string => {
  const g = new Gen(rng(seed));
  g.line(1, 'const data = input.lookup(0);');
  g.line(1, 'if (data === null) return -1;');
  g.block(1, g.r.int(2, 5), 0);
  g.line(1, `return ${g.ret()};`);
  return `export const ${name} = program({ section: 'syscall', license: 'GPL', fault: ${fault} }, () => {\n${g.out.join('\n')}\n});`;
};

/** A file of programs `p0`, `p1`, ... over one input map, importing the DSL from `dslImport`. */
export const genFile = (seeds: readonly number[], dslImport: string): string =>
  [
    `import { arrayMap, i8, i16, i32, noinline, program, u8, u16, u32, u64, udiv, umod } from '${dslImport}';`,
    `export const input = arrayMap({ valueSize: ${GEN_INPUT_SIZE}, maxEntries: 1 });`,
    MIX,
    ...seeds.map((s, k) => genProgram(`p${k}`, s, -1000 - k)),
    '',
  ].join('\n');
