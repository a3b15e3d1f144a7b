/**
 * Running parsers/uki.ts three ways over one input — natively (the DSL library with runtime/helpers'
 * nativeHelperHost), compiled in runtime/vm (kexecHelpers over real maps), and through kexec_file_load in
 * the simulated kernel with a loader doing the eventfd handshake — and the mapping of a kexec load onto
 * systemd-stub's inputs (`stubInputOf`), so results can be compared with formats/uki `stubHandoff`.
 *
 * The mapping (docs/ABI.md §10): the user's command line is LoadOptions; the user's initrd is the
 * previously registered initrd; the addon files are `<uki>.efi.extra.d/`, in the order the loader lists
 * them; Secure Boot off.
 */
import { closeSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BPF_MAP_TYPE } from '../../bpf/abi/index.ts';
import { type Program, setHelperHost } from '../../compiler/dsl/index.ts';
import type { ArrayMap as DslArrayMap, RingBuf } from '../../compiler/dsl/maps.ts';
import { type CompileOutput, compileSource, linkedInsns, linkedMaps, writeElf } from '../../compiler/index.ts';
import type { Certificate } from '../../formats/authenticode/index.ts';
import { upsertSection } from '../../formats/pe/index.ts';
import { type EspFile, type StubInput, selectAddons } from '../../formats/uki/index.ts';
import {
  addonNameMap,
  type BpfMap,
  decodeKexecResult,
  type KexecResult,
  ArrayMap as KernelArrayMap,
  KernelLog,
  RingBuf as KernelRingBuf,
  kexecHelpers,
  MapTable,
  nativeHelperHost,
  prepareKexecHelpers,
  ResourceStore,
} from '../../runtime/helpers/index.ts';
import {
  closeRawFd,
  eventfdCreate,
  eventfdSignal,
  eventfdWait,
  KEXEC_FILE,
  Kernel,
  type LoadedParser,
  loadParser,
} from '../../runtime/kernel/index.ts';
import { Memory, Vm } from '../../runtime/vm/index.ts';
import { certsOf } from '../formats/authenticode-support.ts';
import { closeLoaded, openRead, sign, tempDir } from '../runtime/kernel/support.ts';
import { testKeys } from '../support/fixtures.ts';

export const UKI_PARSER = new URL('../../parsers/uki.ts', import.meta.url).pathname;

let compiled: CompileOutput | undefined;
/** The compiled parser (compiled once per process). */
export const ukiCompiled = (): CompileOutput => {
  compiled ??= compileSource(UKI_PARSER, readFileSync(UKI_PARSER, 'utf8'));
  if (compiled.diagnostics.length > 0) {
    throw new Error(`parsers/uki.ts: ${compiled.diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`).join('\n')}`);
  }
  return compiled;
};

/** The BPF ELF object to put into a UKI's `.bpf` section. */
export const ukiParserObject = async (): Promise<Uint8Array> => writeElf(ukiCompiled());

export interface UkiRunInput {
  /** The UKI (without `.bpf`; the kernel run adds it and signs the image). */
  readonly uki: Uint8Array;
  /** The user's command line (kexec --command-line); undefined: none. */
  readonly cmdline?: string;
  /** The user's initrd; undefined: none (KEXEC_FILE_NO_INITRAMFS). */
  readonly initrd?: Uint8Array;
  /** Files the loader hands over and lists in the addon-name map, in this order. */
  readonly addons?: readonly { readonly name: string; readonly data: Uint8Array }[];
  /** Certificates addons are checked against (default: the test RSA key). */
  readonly keyring?: readonly Certificate[];
}

export interface UkiRunOutcome {
  /** 0, or the status the parser reported (-errno); the kernel run: kexec_file_load's result. */
  readonly errno: number;
  readonly result: KexecResult | undefined;
  readonly kernel: Uint8Array | undefined;
  readonly initrd: Uint8Array | undefined;
  /** The command line without its NUL; undefined when none. */
  readonly cmdline: Uint8Array | undefined;
  readonly log: string;
}

const keyringOf = (i: UkiRunInput): readonly Certificate[] => i.keyring ?? certsOf(testKeys().rsa.cert);
const cmdlineResource = (c: string | undefined): Uint8Array | undefined =>
  c === undefined || c === '' ? undefined : new TextEncoder().encode(`${c}\0`);
const nonEmpty = (b: Uint8Array | undefined): Uint8Array | undefined => (b && b.length > 0 ? b : undefined);
const stripNul = (b: Uint8Array | undefined): Uint8Array | undefined =>
  b === undefined || b.length === 0 ? undefined : b[b.length - 1] === 0 ? b.subarray(0, b.length - 1) : b;

const resourcesOf = (i: UkiRunInput): ResourceStore => {
  const cmdline = cmdlineResource(i.cmdline);
  return new ResourceStore({
    kernel: i.uki,
    ...(i.initrd ? { initrd: i.initrd } : {}),
    ...(cmdline ? { cmdline } : {}),
  });
};

const outcome = (recs: Uint8Array[], resources: ResourceStore, log: string): UkiRunOutcome => {
  const result = recs.at(-1) && decodeKexecResult(recs.at(-1)!);
  const ok = result?.status === 0;
  return {
    errno: result?.status ?? -1,
    result,
    kernel: ok ? resources.get('kernel') : undefined,
    initrd: ok ? nonEmpty(resources.get('initrd')) : undefined,
    cmdline: ok ? stripNul(resources.get('cmdline')) : undefined,
    log,
  };
};

/** Runs the parser natively (Node runs the DSL source). */
export const runUkiNative = async (i: UkiRunInput): Promise<UkiRunOutcome> => {
  await prepareKexecHelpers();
  const mod = (await import(UKI_PARSER)) as {
    parse: Program;
    kexec_result: RingBuf;
    kexec_addons: DslArrayMap;
  };
  const names = (i.addons ?? []).map((a) => a.name);
  for (let k = 0; k < mod.kexec_addons.maxEntries; k++) {
    const slot = mod.kexec_addons.lookup(k)!.raw();
    slot.fill(0);
    if (k < names.length) slot.set(Buffer.from(names[k]!, 'latin1').subarray(0, slot.length - 1));
  }
  const resources = resourcesOf(i);
  const log = new KernelLog(() => 0n);
  const prev = setHelperHost(
    nativeHelperHost({
      resources,
      addons: new Map((i.addons ?? []).map((a) => [a.name, a.data])),
      keyring: keyringOf(i),
      log,
    }),
  );
  try {
    mod.kexec_result.drain();
    const r0 = mod.parse.run([0n, 0n]);
    if (r0 !== 0) throw new Error(`parse returned ${r0}`);
    return outcome(mod.kexec_result.drain(), resources, log.lines().join('\n'));
  } finally {
    setHelperHost(prev);
  }
};

/** Runs the compiled parser in runtime/vm with the kernel's helper models. */
export const runUkiCompiled = async (i: UkiRunInput): Promise<UkiRunOutcome & { readonly insns: number }> => {
  await prepareKexecHelpers();
  const out = ukiCompiled();
  const prog = out.programs[0];
  if (prog === undefined) throw new Error('parsers/uki.ts did not compile');
  const maps = new MapTable();
  for (const m of linkedMaps(out)) {
    const map: BpfMap =
      m.type === BPF_MAP_TYPE.RINGBUF
        ? new KernelRingBuf({ name: m.name, maxEntries: m.maxEntries })
        : m.name === 'kexec_addons'
          ? addonNameMap((i.addons ?? []).map((a) => a.name))
          : new KernelArrayMap({ ...m, mapFlags: m.flags ?? 0 });
    if (map instanceof KernelArrayMap && m.data !== undefined) map.element(0).set(m.data);
    maps.add(map);
  }
  const resources = resourcesOf(i);
  const log = new KernelLog(() => 0n);
  const memory = new Memory();
  const vm = new Vm(linkedInsns(out, prog), {
    helpers: kexecHelpers({
      maps,
      resources,
      addons: new Map((i.addons ?? []).map((a) => [a.name, a.data])),
      keyring: keyringOf(i),
      log,
    }),
    memory,
    resolveLddw: maps.resolver(memory),
    maxInsns: 50_000_000,
  });
  const { r0, insns } = vm.run({ mem: new Uint8Array(16), memKind: 'ctx' });
  if (r0 !== 0n) throw new Error(`parse returned ${r0}`);
  const recs = (maps.byName('kexec_result') as KernelRingBuf).drain().map((r) => r.data.slice());
  return { ...outcome(recs, resources, log.lines().join('\n')), insns };
};

/**
 * A loader in this thread like test/runtime/kernel's inThreadLoader, but loading with verifier log level 0:
 * at level 1 our verifier spends minutes printing the states of this 600k-instruction walk.
 */
const quietLoader = (kernel: Kernel, eventA: number, eventB: number, addons: readonly string[]) => {
  let stopped = false;
  const run = async (): Promise<(LoadedParser | string)[]> => {
    const out: (LoadedParser | string)[] = [];
    while (!stopped && out.length < 4) {
      if (!(await eventfdWait(eventA, 20))) continue;
      const r = loadParser(kernel, new Uint8Array(readFileSync(kernel.procfs.bpfProg)), { logLevel: 0, addons });
      out.push('progFd' in r ? r : `${r.step}: ${r.errno} ${r.message}`);
      eventfdSignal(eventB);
    }
    return out;
  };
  return {
    done: run(),
    stop: () => {
      stopped = true;
    },
  };
};

let sessions = 0;
/**
 * kexec_file_load in the simulated kernel (signature enforcement on, x86_64): the UKI gets the compiled
 * parser as `.bpf` and is signed with the test key; a loader in this thread answers the handshake and
 * fills the addon-name map. The outcome's buffers are the kimage's.
 */
export const runUkiParser = async (i: UkiRunInput): Promise<UkiRunOutcome> => {
  const tmp = tempDir();
  const keys = testKeys();
  const kernel = await Kernel.create({
    procRoot: join(tmp.dir, 'proc'),
    keyrings: { builtin: [keys.rsa.cert] },
    sigPolicy: 'kexec_sig_force',
    handshakeTimeoutMs: 20_000,
    arch: 'x86_64',
  });
  const fds: number[] = [];
  const file = (name: string, data: Uint8Array): number => {
    const path = join(tmp.dir, `f${sessions++}-${name.replace(/[^A-Za-z0-9._-]/g, '_')}`);
    writeFileSync(path, data);
    const fd = openRead(path);
    fds.push(fd);
    return fd;
  };
  const a = eventfdCreate();
  const b = eventfdCreate();
  try {
    const image = sign(upsertSection(i.uki, { name: '.bpf', data: await ukiParserObject() }), keys.rsa);
    const kernelFd = file('uki.efi', image);
    const initrdFd = i.initrd ? file('initrd', i.initrd) : -1;
    const addons = (i.addons ?? []).map((x) => ({ name: x.name, fd: file(x.name, x.data) }));
    const reg = kernel.registerLoader({ eventA: a, eventB: b, addons });
    if (reg !== 0) throw new Error(`registerLoader: ${reg}`);
    const loader = quietLoader(
      kernel,
      a,
      b,
      addons.map((x) => x.name),
    );
    const errno = await kernel.kexecFileLoad({
      kernelFd,
      initrdFd,
      cmdline: i.cmdline ?? '',
      flags: i.initrd ? 0 : KEXEC_FILE.NO_INITRAMFS,
    });
    loader.stop();
    const stages = await loader.done;
    closeLoaded(kernel, stages);
    const k = kernel.kimage();
    const result = k?.stages[0]?.result;
    return {
      errno,
      result: result && decodeKexecResult(result),
      kernel: k?.kernel,
      initrd: k?.initrd,
      cmdline: stripNul(k?.cmdline),
      log: kernel.dmesg().join('\n'),
    };
  } finally {
    for (const fd of fds) closeSync(fd);
    closeRawFd(a);
    closeRawFd(b);
    kernel.shutdown();
    tmp.remove();
  }
};

/** systemd-stub's inputs for a kexec load (docs/ABI.md §10): what `stubHandoff` must be given to compare. */
export const stubInputOf = (i: UkiRunInput): StubInput => {
  const extraDir: EspFile[] = (i.addons ?? []).map((a) => ({ name: a.name, data: a.data }));
  return {
    uki: i.uki,
    ...(i.cmdline === undefined ? {} : { loadOptions: i.cmdline }),
    ...(i.initrd ? { previousInitrd: i.initrd } : {}),
    extraDir,
    secureBoot: false,
  };
};

/** The addon files the stub would load from a listing, in its order (for building addon-name maps). */
export const addonOrder = (files: readonly EspFile[]): string[] => selectAddons(files).map((f) => f.name);
