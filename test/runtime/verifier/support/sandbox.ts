/**
 * Runs a verified program in the interpreter (runtime/vm) with the kexec helpers over real maps
 * (runtime/helpers), on random inputs: the other half of the soundness property. The context is
 * laid out as the kernel's convert_ctx_access would leave it after rewriting:
 * - socket filter: a 192-byte struct __sk_buff of random bytes;
 * - syscall: a user buffer as large as the verifier lets a program index (64 KiB);
 * - XDP: struct xdp_buff-like 64-bit data / data_end / data_meta pointers into a random packet,
 *   then ingress_ifindex and rx_queue_index. The program's xdp_md loads through r6 (the context in
 *   every generated program) are rewritten to that layout, as the kernel rewrites them.
 */
import { BPF_FUNC } from '../../../../bpf/abi/index.ts';
import { decodeRaw, type RawSlot } from '../../../../bpf/isa/index.ts';
import { ArrayMap, HashMap, kexecHelpers, MapTable, RingBuf } from '../../../../runtime/helpers/index.ts';
import type { MapDesc } from '../../../../runtime/verifier/index.ts';
import { Memory, Vm, VmError } from '../../../../runtime/vm/index.ts';
import type { ProgKind } from '../corpus/hand-types.ts';

/** nr_cpu_ids of the sandbox; verify() must be given the same (it bounds bpf_get_smp_processor_id). */
export const SANDBOX_NR_CPU_IDS = 4;

/** A small deterministic PRNG (mulberry32), so a failing seed reproduces. */
export const rng = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
};

const fill = (b: Uint8Array, next: () => number, n = b.length): Uint8Array => {
  for (let i = 0; i < n; i++) b[i] = next() & 0xff;
  return b;
};

const tableFor = (maps: readonly MapDesc[], next: () => number): MapTable => {
  const t = new MapTable();
  for (const m of maps) {
    const attr = {
      name: m.name,
      keySize: m.keySize,
      valueSize: m.valueSize,
      maxEntries: m.maxEntries,
      mapFlags: m.flags,
    };
    if (m.type === 27) t.add(new RingBuf({ name: m.name, maxEntries: m.maxEntries }));
    else if (m.type === 1) {
      const h = new HashMap(attr);
      // a random subset of the keys the generator looks up (0..5)
      for (let k = 0; k < 6; k++)
        if (next() & 1) h.update(new Uint8Array([k, 0, 0, 0]), fill(new Uint8Array(m.valueSize), next), 0);
      t.add(h);
    } else {
      const a = new ArrayMap(attr);
      for (let k = 0; k < m.maxEntries; k++) {
        const v = m.data ? m.data.slice() : fill(new Uint8Array(m.valueSize), next);
        a.update(new Uint8Array([k, 0, 0, 0]), v, 0);
      }
      t.add(a);
    }
  }
  return t;
};

const LDX_W = 0x61;
const LDX_DW = 0x79;
/** xdp_md field offset → [opcode, offset] in the run-time layout. */
const XDP_CTX: ReadonlyMap<number, readonly [number, number]> = new Map([
  [0, [LDX_DW, 0]],
  [4, [LDX_DW, 8]],
  [8, [LDX_DW, 16]],
  [12, [LDX_W, 24]],
  [16, [LDX_W, 28]],
]);

const rewriteXdp = (slots: readonly RawSlot[]): RawSlot[] =>
  slots.map((s, i) => {
    const isLddwTail = i > 0 && slots[i - 1]?.code === 0x18;
    const to = !isLddwTail && s.code === LDX_W && s.src === 6 ? XDP_CTX.get(s.off) : undefined;
    return to ? { ...s, code: to[0], off: to[1] } : s;
  });

const SYSCALL_CTX = 0x10000 + 8;

export interface RunFault {
  readonly run: number;
  readonly error: VmError;
}

/**
 * Runs `slots` `runs` times on fresh random context/packet bytes (maps are filled once, then keep
 * what the program writes). Returns the first fault, or undefined when every run reached exit.
 */
export const runRandom = (
  slots: readonly RawSlot[],
  kind: ProgKind,
  maps: readonly MapDesc[],
  seed: number,
  runs: number,
): RunFault | undefined => {
  const next = rng(seed);
  const memory = new Memory();
  const table = tableFor(maps, next);
  const helpers = kexecHelpers({ maps: table, random: next, clock: () => BigInt(next()) })
    // not a kexec helper, but one the generator calls (the kernel's bpf_get_smp_processor_id): any CPU
    // below the nr_cpu_ids the verifier was told, as on a real machine
    .set(BPF_FUNC.get_smp_processor_id, (env) => env.setReturn(BigInt(next() % SANDBOX_NR_CPU_IDS)));
  const vm = new Vm(decodeRaw(kind === 'xdp' ? rewriteXdp(slots) : slots), {
    helpers,
    memory,
    resolveLddw: table.resolver(memory),
    maxInsns: 100_000,
  });
  const syscallCtx = kind === 'syscall' ? new Uint8Array(SYSCALL_CTX) : undefined;
  for (let run = 0; run < runs; run++) {
    const mark = memory.mark();
    try {
      let ctx: Uint8Array;
      if (kind === 'xdp') {
        const packet = memory.add('input', fill(new Uint8Array(next() % 80), next), 'packet', true);
        ctx = fill(new Uint8Array(32), next);
        const v = new DataView(ctx.buffer);
        v.setBigUint64(0, packet.address, true);
        v.setBigUint64(8, packet.address + BigInt(packet.bytes.length), true);
        v.setBigUint64(16, packet.address, true);
      } else if (syscallCtx) ctx = fill(syscallCtx, next, 256);
      else ctx = fill(new Uint8Array(192), next);
      vm.run({ mem: ctx, memKind: 'ctx' });
    } catch (e) {
      if (e instanceof VmError) return { run, error: e };
      throw e;
    } finally {
      memory.release(mark);
    }
  }
  return undefined;
};
