/**
 * Running a bpf_conformance-style program (R1 = memory, R2 = its length, 64-bit R0) in the real
 * kernel. The program becomes a subprogram of an XDP wrapper that passes it a pointer into an
 * array-map value holding the memory, calls it (bpf-to-bpf), and stores its full 64-bit R0 in the
 * first 8 bytes of the same value (XDP's own return value is only 32 bits):
 *
 *   lddw r1, map_value(fd) + 8     ; or r1 = 0 when there is no memory
 *   mov  r2, len
 *   call local main
 *   lddw r1, map_value(fd) + 0
 *   stxdw [r1], r0
 *   mov  r0, 0
 *   exit
 *   main: ...the program...
 *
 * The kernel's verifier sees the memory as PTR_TO_MAP_VALUE of exactly its size, so it rejects
 * what our interpreter would fault on, and BPF_PROG_TEST_RUN runs it (repeat for benchmarks).
 */
import { encode, type Insn, insnNamed, LdImmSrc, lddw } from '../../bpf/isa/index.ts';
import { mapCreate, mapLookup, mapUpdate, progLoad, progTestRun } from './bpf.ts';
import { BpfError, closeFd } from './syscall.ts';
import { AttachType, MapType, ProgType } from './uapi.ts';

const mapValue = (dst: number, fd: number, off: number): Insn => ({
  ...lddw(dst, 0n, LdImmSrc.MAP_VALUE),
  imm: fd,
  imm2: off,
});

/** The wrapped program for a map fd (exported for inspection in tests). */
export const wrapProgram = (main: readonly Insn[], fd: number, memLength: number | undefined): Insn[] => {
  const head: Insn[] =
    memLength === undefined
      ? [insnNamed('mov', { dst: 1, imm: 0 }, 'K'), insnNamed('mov', { dst: 2, imm: 0 }, 'K')]
      : [mapValue(1, fd, 8), insnNamed('mov', { dst: 2, imm: memLength }, 'K')];
  const tail: Insn[] = [
    mapValue(1, fd, 0),
    insnNamed('stxdw', { dst: 1, src: 0 }),
    insnNamed('mov', { dst: 0, imm: 0 }, 'K'),
    insnNamed('exit'),
  ];
  // call's target is the slot after the tail: tail = 2 + 1 + 1 + 1 slots.
  return [...head, insnNamed('call_local', { imm: 5 }), ...tail, ...main];
};

export type KernelOutcome =
  | { readonly kind: 'result'; readonly r0: bigint; readonly mem: Uint8Array; readonly durationNs: number }
  | { readonly kind: 'rejected'; readonly error: BpfError };

export interface KernelRunOptions {
  readonly repeat?: number;
  /** Called with the loaded program's fd before it is closed (e.g. to time more runs). */
  readonly name?: string;
}

/**
 * Loads the wrapped program and runs it once (or `repeat` times; `durationNs` is the kernel's average
 * per run). A verifier rejection is an outcome, not an exception; other bpf(2) failures throw.
 */
export const runInKernel = (
  main: readonly Insn[],
  mem: Uint8Array | undefined,
  o: KernelRunOptions = {},
): KernelOutcome => {
  const valueSize = 8 + Math.ceil((mem?.length ?? 0) / 8) * 8;
  const map = mapCreate({ mapType: MapType.ARRAY, keySize: 4, valueSize, maxEntries: 1, name: 'ukibpf_run' });
  try {
    const key = new Uint8Array(4);
    const value = new Uint8Array(valueSize);
    if (mem) value.set(mem, 8);
    mapUpdate(map, key, value);
    let fd: number;
    try {
      fd = progLoad({
        progType: ProgType.XDP,
        expectedAttachType: AttachType.XDP,
        insns: encode(wrapProgram(main, map, mem?.length)),
        license: 'GPL',
        logLevel: 0,
        name: o.name ?? 'ukibpf_run',
      }).fd;
    } catch (e) {
      if (e instanceof BpfError && e.command === 'PROG_LOAD') {
        // Reload with a log so the rejection says why.
        try {
          progLoad({
            progType: ProgType.XDP,
            expectedAttachType: AttachType.XDP,
            insns: encode(wrapProgram(main, map, mem?.length)),
            logLevel: 1,
          });
        } catch (withLog) {
          if (withLog instanceof BpfError) return { kind: 'rejected', error: withLog };
        }
        return { kind: 'rejected', error: e };
      }
      throw e;
    }
    try {
      // XDP test runs need at least an Ethernet header of packet data.
      const run = progTestRun(fd, { dataIn: new Uint8Array(64), repeat: o.repeat ?? 1 });
      const out = mapLookup(map, key, valueSize);
      const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
      return {
        kind: 'result',
        r0: view.getBigUint64(0, true),
        mem: out.slice(8, 8 + (mem?.length ?? 0)),
        durationNs: run.duration,
      };
    } finally {
      closeFd(fd);
    }
  } finally {
    closeFd(map);
  }
};
