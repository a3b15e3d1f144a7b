/** Running small assembled programs with the kexec helpers. */
import { assembleUbpf } from '../../../bpf/asm/ubpf/index.ts';
import type { HelperRegistry, RunResult } from '../../../runtime/vm/index.ts';
import { Memory, Vm, VmError } from '../../../runtime/vm/index.ts';
import type { MapTable } from '../../../runtime/helpers/index.ts';

export interface RunOptions {
  readonly helpers: HelperRegistry;
  readonly maps?: MapTable;
  readonly memory?: Memory;
  /** Input region (R1 = its address, R2 = its length). */
  readonly mem?: Uint8Array;
}

/** Assembles `text` (conformance syntax) and runs it once. */
export const runAsm = (text: string, o: RunOptions): RunResult & { memory: Memory } => {
  const memory = o.memory ?? new Memory();
  const vm = new Vm(assembleUbpf(text).insns, { helpers: o.helpers, memory, resolveLddw: o.maps?.resolver(memory) });
  return { ...vm.run({ mem: o.mem }), memory };
};

/** The VmError a run throws. */
export const vmFailure = (f: () => unknown): VmError => {
  try {
    f();
  } catch (e) {
    if (e instanceof VmError) return e;
    throw e;
  }
  throw new Error('expected a VmError');
};

/** R0 as a signed 64-bit number (helpers return -errno). */
export const signed = (r0: bigint): number => Number(BigInt.asIntN(64, r0));

/** A NUL-terminated latin-1 string's bytes, padded with zeros to `size`. */
export const cstr = (s: string, size = s.length + 1): Uint8Array => {
  const b = new Uint8Array(size);
  b.set(Buffer.from(s, 'latin1'));
  return b;
};

export const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
