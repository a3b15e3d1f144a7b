/**
 * The program declaration: `export const parse = program({ section, license }, (ctx) => { ... })`.
 * The exported const names the BPF program; `section` is its SEC() name (e.g.
 * `fentry.s/kexec_pe_parser_hook`), `license` its license string, `fault` the value it returns when
 * an access falls outside a view (default 0, which fentry programs must return anyway).
 */
import { BoundsFault } from './bytes.ts';
import type { i32, u32, u64 } from './ints.ts';

export interface ProgramDecl {
  readonly section: string;
  readonly license: string;
  readonly fault?: number;
}

/** The context: the hooked function's arguments (fentry), argument i being the u64 at offset 8*i. */
export interface Context {
  arg(i: u32): u64;
}

export class Program {
  readonly decl: ProgramDecl;
  readonly body: (ctx: Context) => i32;
  constructor(decl: ProgramDecl, body: (ctx: Context) => i32) {
    this.decl = decl;
    this.body = body;
  }

  /** Runs natively. A view access out of bounds ends the run with `fault`, as the compiled code does. */
  run(args: readonly bigint[] = []): i32 {
    const ctx: Context = {
      arg: (i) => {
        const v = args[i];
        if (v === undefined) throw new RangeError(`context has no argument ${i}`);
        return BigInt.asUintN(64, v);
      },
    };
    try {
      return this.body(ctx);
    } catch (e) {
      if (e instanceof BoundsFault) return this.decl.fault ?? 0;
      throw e;
    }
  }
}

export const program = (decl: ProgramDecl, body: (ctx: Context) => i32): Program => new Program(decl, body);

/**
 * Marks a module-level function to be compiled once as a BPF subprogram and called (a bpf-to-bpf
 * call: arguments in R1–R5, the result in R0, its own stack frame) instead of inlined at each call.
 * Integer parameters (at most five) and an integer, boolean or void result of at most 32 bits.
 * Natively it is the function itself.
 */
export const noinline = <F extends (...args: never[]) => unknown>(fn: F): F => fn;

/**
 * Keeps a module-level function inlined at every call, even one large enough to be outlined (a
 * function of many syntax nodes called from several places becomes a subprogram otherwise; see
 * docs/DSL.md). Natively it is the function itself.
 */
export const inline = <F extends (...args: never[]) => unknown>(fn: F): F => fn;
