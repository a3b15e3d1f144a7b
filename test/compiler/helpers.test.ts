/**
 * A program at the proposal's hook (programs/kexec-hook.ts) calling bpf_helper_carrier, _decompress
 * and _supplement_initrd and reporting through a ring buffer: it passes our verifier with the hook's
 * policy, and on random kernels and addons it makes the same helper calls, writes the same ring-buffer
 * records and leaves the same boot resources natively (runtime/helpers' nativeHelperHost) and compiled
 * (runtime/vm with kexecHelpers over runtime/helpers' maps).
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { BPF_MAP_TYPE, helperName } from '../../bpf/abi/index.ts';
import { Bytes, type HelperHost, type Program, setHelperHost } from '../../compiler/dsl/index.ts';
import type { ArrayMap, RingBuf } from '../../compiler/dsl/maps.ts';
import { linkedInsns, linkedMaps } from '../../compiler/index.ts';
import {
  ArrayMap as KernelArrayMap,
  type BpfMap,
  type KexecHelperOptions,
  kexecHelpers,
  MapTable,
  nativeHelperHost,
  prepareKexecHelpers,
  RingBuf as KernelRingBuf,
  ResourceStore,
} from '../../runtime/helpers/index.ts';
import { kexecParserHook, verify } from '../../runtime/verifier/index.ts';
import { type HelperRegistry, Memory, Vm } from '../../runtime/vm/index.ts';
import { compileFile } from './support/harness.ts';

const FILE = new URL('./programs/kexec-hook.ts', import.meta.url).pathname;
const out = compileFile(FILE);

/** One boot: the kernel image, the addon named in the map, and whether its signature verifies. */
interface Boot {
  readonly kernel: Uint8Array;
  readonly addonName: string;
  readonly addonOk: boolean;
}

const bootArb: fc.Arbitrary<Boot> = fc.record({
  kernel: fc.oneof(
    fc.uint8Array({ minLength: 0, maxLength: 600 }).map((b) => new Uint8Array(gzipSync(b))),
    fc.uint8Array({ minLength: 0, maxLength: 5000 }),
  ),
  addonName: fc.constantFrom('debug.addon.efi', 'missing.addon.efi', 'a/b'),
  addonOk: fc.boolean(),
});

const ADDON = new Uint8Array(300).fill(0x41);
const options = (b: Boot, resources: ResourceStore): KexecHelperOptions => ({
  resources,
  addons: new Map([['debug.addon.efi', ADDON]]),
  verifyAddon: () => (b.addonOk ? { errno: 0, reason: '' } : { errno: -61, reason: 'unsigned' }),
});
const nameBytes = (name: string): Uint8Array => {
  const v = new Uint8Array(64);
  v.set(new TextEncoder().encode(name));
  return v;
};

interface Outcome {
  readonly r0: bigint;
  readonly calls: string[];
  readonly records: Uint8Array[];
  readonly kernel: Uint8Array | undefined;
  readonly initrd: Uint8Array | undefined;
}

const runCompiled = (b: Boot): Outcome => {
  const prog = out.programs[0];
  if (prog === undefined) throw new Error('kexec-hook.ts did not compile');
  const maps = new MapTable();
  for (const m of linkedMaps(out)) {
    const map: BpfMap =
      m.type === BPF_MAP_TYPE.RINGBUF
        ? new KernelRingBuf({ name: m.name, maxEntries: m.maxEntries })
        : new KernelArrayMap({ ...m, mapFlags: m.flags ?? 0 });
    // .rodata (the helpers' string arguments) as libbpf creates it: contents set, read-only to the program
    if (map instanceof KernelArrayMap && m.data !== undefined) map.element(0).set(m.data);
    maps.add(map);
  }
  (maps.byName('addonName') as KernelArrayMap).element(0).set(nameBytes(b.addonName));
  const resources = new ResourceStore({ kernel: b.kernel, initrd: new Uint8Array(10) });
  const table = kexecHelpers({ ...options(b, resources), maps });
  const calls: string[] = [];
  const helpers: HelperRegistry = {
    helper: (id) => {
      const fn = table.helper(id);
      return (
        fn &&
        ((env) => {
          calls.push(helperName(id) ?? `#${id}`);
          fn(env);
        })
      );
    },
  };
  const memory = new Memory();
  const vm = new Vm(linkedInsns(out, prog), { helpers, memory, resolveLddw: maps.resolver(memory) });
  const { r0 } = vm.run({ mem: new Uint8Array(16), memKind: 'ctx' });
  const records = (maps.byName('result') as KernelRingBuf).drain().map((r) => r.data.slice());
  return { r0, calls, records, kernel: resources.get('kernel'), initrd: resources.get('initrd') };
};

const NATIVE_NAMES: Record<string, string> = {
  carrier: 'bpf_helper_carrier',
  decompress: 'bpf_helper_decompress',
  supplementInitrd: 'bpf_helper_supplement_initrd',
};

const runNative = async (b: Boot): Promise<Outcome> => {
  const mod = (await import(FILE)) as Record<string, unknown>;
  (mod.addonName as ArrayMap).update(0, new Bytes(nameBytes(b.addonName)));
  const work = mod.work as ArrayMap;
  work.update(0, new Bytes(new Uint8Array(4096)));
  work.update(1, new Bytes(new Uint8Array(4096)));
  const resources = new ResourceStore({ kernel: b.kernel, initrd: new Uint8Array(10) });
  const host = nativeHelperHost(options(b, resources));
  const calls: string[] = [];
  const recording: HelperHost = Object.fromEntries(
    Object.entries(NATIVE_NAMES).map(([k, name]) => [
      k,
      (...a: unknown[]) => {
        calls.push(name);
        return (host[k as keyof typeof host] as (...x: unknown[]) => unknown)(...a);
      },
    ]),
  );
  const prev = setHelperHost(recording);
  try {
    const r0 = (mod.parse as Program).run();
    const records = (mod.result as RingBuf).drain();
    return { r0: BigInt(r0), calls, records, kernel: resources.get('kernel'), initrd: resources.get('initrd') };
  } finally {
    setHelperHost(prev);
  }
};

describe('helpers and ring buffers: native = compiled', () => {
  beforeAll(() => prepareKexecHelpers());

  it('kexec-hook.ts passes our verifier at fentry.s/kexec_pe_parser_hook', () => {
    expect(out.diagnostics).toEqual([]);
    const prog = out.programs[0];
    if (prog === undefined) throw new Error('no program');
    const v = verify(linkedInsns(out, prog), {
      policy: kexecParserHook,
      maps: linkedMaps(out),
      sleepable: true,
      license: out.license,
    });
    expect(v.accepted, v.summary).toBe(true);
  });

  it('same helper calls, records and resources on 60 random boots', async () => {
    let decompressed = 0;
    let appended = 0;
    await fc.assert(
      fc.asyncProperty(bootArb, async (b) => {
        const want = await runNative(b);
        const got = runCompiled(b);
        // native maps and ring buffers are the DSL's own objects: the calls compared are the host's
        expect(got.calls.filter((c) => Object.values(NATIVE_NAMES).includes(c))).toEqual(want.calls);
        expect(got.records).toEqual(want.records);
        expect(got.kernel).toEqual(want.kernel);
        expect(got.initrd).toEqual(want.initrd);
        expect(got.r0).toBe(want.r0);
        const rec = new DataView((want.records[0] as Uint8Array).buffer);
        if (rec.getInt32(4, true) > 0) decompressed++;
        if (rec.getInt32(12, true) > 0) appended++;
      }),
      { numRuns: 60 },
    );
    // both paths of each helper were reached
    expect(decompressed).toBeGreaterThan(0);
    expect(appended).toBeGreaterThan(0);
  });
});
