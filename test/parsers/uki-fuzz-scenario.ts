/**
 * Run by uki-fuzz.test.ts in a process of its own (so /proc/self/fd counts only this run's fds, and a
 * hang can be killed from outside): malformed UKIs through the simulated kernel's kexec_file_load with
 * the compiled parsers/uki.ts and an in-thread loader doing the handshake. Each case must end with 0 or
 * a clean negative errno with a kexec_file log line — never a host exception, never past the per-case
 * time budget, never a kimage after a failure, never a kernel object or fd left behind.
 * Prints progress on stderr (`case N kind`) and one JSON report line on stdout.
 *
 * UKI_FUZZ_SEED=N replays a run (UKI_FUZZ_SEED=random explores), UKI_FUZZ_CASES=n sets its size.
 */
import { closeSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ADDON_MAP, BPF_MAP_TYPE, errnoName, KEXEC_PE_PARSER_HOOK, progTypeForSection } from '../../bpf/abi/index.ts';
import { readObject } from '../../bpf/elf/index.ts';
import { type PeImage, readPe, upsertSection } from '../../formats/pe/index.ts';
import { appendSection, type EspFile, stubHandoff } from '../../formats/uki/index.ts';
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
import { linkProgram } from '../../runtime/verifier/load/object.ts';
import { openFds, openRead, sign, tempDir } from '../runtime/kernel/support.ts';
import { testKeys } from '../support/fixtures.ts';
import { buildCase, caseSeed, cmdlineText, compare, type UkiCase } from '../support/uki-corpus.ts';
import { ukiParserObject } from './uki-support.ts';

export const FUZZ_SEED = 20261123;
/** Wall-clock budget of one case (kexec_file_load with its handshake and the parser run). */
export const CASE_BUDGET_MS = 4000;

const MUTATIONS = [
  'truncate',
  'flip-headers',
  'flip-table',
  'field',
  'overlap',
  'count',
  'lfanew',
  'data',
  'junk-sections',
  'huge',
  'addon-corrupt',
] as const;
export type MutationKind = (typeof MUTATIONS)[number];

export interface FuzzReport {
  readonly seed: number;
  readonly cases: number;
  readonly fdsBefore: number;
  fdsAfter: number;
  /** Fds open after the run that were not open (to the same file) before it. */
  fdsLeaked: string[];
  /** Per mutation kind: cases, outcomes by errno name ('0' for success), how many reached the parser. */
  readonly kinds: Record<string, { cases: number; reached: number; outcomes: Record<string, number> }>;
  /** Successful loads of a mutated image the stub reference also accepts, and how many agreed. */
  readonly reference: { compared: number; agreed: number };
  /** Unmutated corpus cases (one per theme and builder) compared with the reference, and their mismatches. */
  readonly control: { index: number; theme: string; errno: number; mismatches: string[] }[];
  /** Wall-clock ms of the first (verifying) program load. */
  loadMs: number;
  maxCaseMs: number;
  readonly violations: string[];
}

interface Mutation {
  readonly kind: MutationKind;
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly bytes: Uint8Array;
  readonly signed: boolean;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom(...MUTATIONS),
  a: fc.nat(),
  b: fc.nat(),
  c: fc.nat(),
  bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }),
  signed: fc.noBias(fc.integer({ min: 0, max: 99 })).map((n) => n < 12),
});

const INTERESTING = (len: number, v: number): number[] => [
  0,
  1,
  v + 1,
  Math.max(0, v - 1),
  v * 2,
  len,
  len + 1,
  0x10000,
  0x7fffffff,
  0x80000000,
  0xfffffff0,
  0xffffffff,
];

const u32 = (b: Uint8Array, at: number): number => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
const setU32 = (b: Uint8Array, at: number, v: number): void =>
  new DataView(b.buffer, b.byteOffset).setUint32(at, v >>> 0, true);

const JUNK_NAMES = ['.linux', '.profile', '.cmdline', '.initrd', '.ucode', '.uname', '.osrel', '.zz', '.linux2'];

/** The mutated image and files of a case (the input is never modified). */
const mutate = (m: Mutation, image: Uint8Array, files: readonly EspFile[]): { image: Uint8Array; files: EspFile[] } => {
  const out = image.slice();
  const pe: PeImage = readPe(image);
  const targets = pe.sections.filter((s) => s.name !== '.bpf');
  const pick = <T>(xs: readonly T[], n: number): T => xs[n % xs.length]!;
  const s = pick(targets, m.a);
  const headersEnd = pe.offsets.sectionTableEnd;
  switch (m.kind) {
    case 'truncate': {
      const cut = m.c % 2 === 0 ? m.b % image.length : s.pointerToRawData + (m.b % Math.max(1, s.sizeOfRawData));
      return { image: image.slice(0, Math.min(cut, image.length - 1)), files: [...files] };
    }
    case 'flip-headers':
    case 'flip-table': {
      const from = m.kind === 'flip-table' ? s.headerOffset : 0;
      const span = m.kind === 'flip-table' ? 40 : headersEnd;
      for (let k = 0; k <= m.c % 3; k++) {
        const at = from + ((m.b + k * 7919) % span);
        out[at] = (out[at] ?? 0) ^ (1 << ((m.c >> (k * 3)) & 7));
      }
      break;
    }
    case 'field': {
      const field = pick([8, 12, 16, 20], m.b);
      setU32(out, s.headerOffset + field, pick(INTERESTING(image.length, u32(image, s.headerOffset + field)), m.c));
      break;
    }
    case 'overlap': {
      const t = pick(targets, m.b);
      for (const field of m.c % 2 === 0 ? [16, 20] : [8, 12])
        setU32(out, s.headerOffset + field, u32(image, t.headerOffset + field));
      break;
    }
    case 'count':
      new DataView(out.buffer).setUint16(
        pe.offsets.coffHeader + 2,
        pick([0, 1, pe.sections.length - 1, pe.sections.length + 1, 0xffff, 96], m.b),
        true,
      );
      break;
    case 'lfanew':
      setU32(out, 0x3c, pick([0, 1, 0x40, image.length - 2, 0xffffffff, u32(image, 0x3c) + 4], m.b));
      break;
    case 'data': {
      const at = s.pointerToRawData + (m.b % Math.max(1, s.sizeOfRawData));
      out.set(m.bytes.subarray(0, Math.max(0, Math.min(m.bytes.length, out.length - at))), at);
      break;
    }
    case 'junk-sections': {
      let img = image;
      for (let k = 0; k < 1 + (m.b % 30); k++) {
        const name = m.c % 3 === 0 ? `.j${(m.a + k) % 1000}` : pick(JUNK_NAMES, m.a + k);
        try {
          img = appendSection(img, name, m.bytes.subarray(0, 1 + ((m.b + k) % m.bytes.length)));
        } catch {
          break; // no header room left: keep what fits
        }
      }
      return { image: img, files: [...files] };
    }
    case 'huge': {
      // a VirtualSize far past the raw data; the section moves past every other one in memory and
      // SizeOfImage grows, so the image stays well-formed and reaches the parser
      const size = pick([0x4000_0000, 0x7fff_f000, 0x1000_0000, 0x200_0000], m.b);
      const sa = pe.optional.sectionAlignment;
      const va = Math.ceil(pe.optional.sizeOfImage / sa) * sa;
      setU32(out, s.headerOffset + 8, size);
      setU32(out, s.headerOffset + 12, va);
      setU32(out, pe.offsets.optionalHeader + 56, Math.min(0xffff_f000, va + Math.ceil(size / sa) * sa));
      break;
    }
    case 'addon-corrupt': {
      if (files.length === 0) break;
      const i = m.a % files.length;
      const f = files[i]!;
      const data = f.data.slice(0, m.c % 2 === 0 ? f.data.length : 1 + (m.b % Math.max(1, f.data.length)));
      for (let k = 0; k < data.length && k < 4; k++) {
        const at = (m.b + k * 131) % data.length;
        data[at] = (data[at] ?? 0) ^ 0x5a;
      }
      // a corrupted addon's signature no longer verifies: the stub would refuse it too (sidecars are unsigned)
      const corrupted: EspFile = { name: f.name, data, ...(f.trusted === undefined ? {} : { trusted: false }) };
      return { image: out, files: files.map((x, j) => (j === i ? corrupted : x)) };
    }
  }
  return { image: out, files: [...files] };
};

/** Base UKIs: corpus cases the stub boots, with profiles, addons and sidecars, and odd alignments among them. */
const bases = (seed: number): UkiCase[] => {
  const want = [
    (c: UkiCase) => c.features.has('profiles') && c.features.has('profile-selected>0'),
    (c: UkiCase) => c.files.length >= 3,
    (c: UkiCase) => c.features.has('falign<512') && c.features.has('builder-crafted'),
    (c: UkiCase) => c.features.has('ucode') && c.features.has('osrel'),
  ];
  const out: UkiCase[] = [];
  for (let i = 0; i < 400 && out.length < want.length; i++) {
    const c = buildCase(seed, i);
    if (c.expected.ok && want[out.length]!(c)) out.push(c);
  }
  return out;
};

/**
 * A loader that verifies the parser once: for every stage whose `.bpf` is that parser, it resets the
 * program's maps to the object's contents (global data as loaded, ring buffers drained, the addon-name
 * map refilled) and attaches the loaded program again, as a resident loader daemon would; any other
 * `.bpf` gets a full libbpf-style load. The kernel still checks each stage's digest, runs the program
 * and builds the kimage; only the verifier run is not repeated.
 */
class ResidentLoader {
  readonly #kernel: Kernel;
  readonly #object: Uint8Array;
  readonly #loaded: LoadedParser;
  readonly #maps: {
    fd: number;
    name: string;
    type: number;
    valueSize: number;
    maxEntries: number;
    frozen: boolean;
    data?: Uint8Array;
  }[];
  readonly #links: number[] = [];
  readonly #attachType: number;
  readonly #extra: LoadedParser[] = [];

  constructor(kernel: Kernel, object: Uint8Array) {
    this.#kernel = kernel;
    this.#object = object;
    const r = loadParser(kernel, object, { logLevel: 1, addons: [] });
    if (!('progFd' in r))
      throw new Error(`the UKI parser does not load: ${r.step} ${r.errno} ${r.message}\n${r.log.slice(-2000)}`);
    kernel.close(r.linkFd);
    this.#loaded = r;
    const obj = readObject(object, { file: 'uki.o' });
    const fn = obj.programs.find((p) => progTypeForSection(p.section)?.target === KEXEC_PE_PARSER_HOOK.name)!;
    this.#attachType = progTypeForSection(fn.section)!.expectedAttachTypeId;
    this.#maps = linkProgram(obj, fn).maps.map((m) => ({
      fd: r.mapFds.get(m.name) ?? -1,
      name: m.name,
      type: m.type,
      valueSize: m.valueSize,
      maxEntries: m.maxEntries,
      frozen: m.frozen ?? false,
      ...(m.data ? { data: m.data } : {}),
    }));
  }

  get fds(): number[] {
    return [this.#loaded.progFd, ...this.#loaded.mapFds.values()];
  }

  #update(fd: number, key: number, value: Uint8Array): void {
    const k = new Uint8Array(4);
    new DataView(k.buffer).setUint32(0, key, true);
    const r = this.#kernel.bpf({ cmd: 'MAP_UPDATE_ELEM', fd, key: k, value, flags: 0 }).ret;
    if (r !== 0) throw new Error(`MAP_UPDATE_ELEM: ${r}`);
  }

  /** One stage: the `.bpf` bytes from procfs; returns when the program is attached. */
  stage(section: Uint8Array, addons: readonly string[]): void {
    if (!Buffer.from(section).equals(Buffer.from(this.#object))) {
      const r = loadParser(this.#kernel, section, { logLevel: 1, addons });
      if ('progFd' in r) this.#extra.push(r);
      return;
    }
    for (const m of this.#maps) {
      if (m.type === BPF_MAP_TYPE.RINGBUF) this.#kernel.bpf({ cmd: 'RINGBUF_CONSUME', fd: m.fd });
      else if (m.name === ADDON_MAP.name)
        for (let i = 0; i < m.maxEntries; i++) {
          const v = new Uint8Array(m.valueSize);
          if (i < addons.length) v.set(Buffer.from(addons[i]!, 'latin1').subarray(0, m.valueSize - 1));
          this.#update(m.fd, i, v);
        }
      else if (m.type === BPF_MAP_TYPE.ARRAY && m.maxEntries === 1 && !m.frozen) {
        const v = new Uint8Array(m.valueSize);
        if (m.data) v.set(m.data.subarray(0, m.valueSize));
        this.#update(m.fd, 0, v);
      }
    }
    const link = this.#kernel.bpf({ cmd: 'LINK_CREATE', progFd: this.#loaded.progFd, attachType: this.#attachType });
    if (link.ret < 0) throw new Error(`LINK_CREATE: ${link.ret}`);
    this.#links.push(link.ret);
  }

  /** Closes the links and full loads of the last kexec_file_load. */
  endLoad(): void {
    for (const fd of this.#links.splice(0)) this.#kernel.close(fd);
    for (const r of this.#extra.splice(0)) {
      this.#kernel.close(r.linkFd);
      this.#kernel.close(r.progFd);
      for (const fd of r.mapFds.values()) this.#kernel.close(fd);
    }
  }

  close(): void {
    this.endLoad();
    for (const fd of this.fds) this.#kernel.close(fd);
  }
}

interface Load {
  readonly image: Uint8Array;
  readonly files: readonly EspFile[];
  readonly cmdline: string | undefined;
  readonly initrd: Uint8Array | undefined;
}

/** kexec_file_load of `l` with the loader answering each handshake in this thread. */
const kexecLoad = async (
  kernel: Kernel,
  loader: ResidentLoader,
  hs: { a: number; b: number },
  dir: string,
  l: Load,
): Promise<number> => {
  const opened: number[] = [];
  const open = (name: string, data: Uint8Array): number => {
    const p = join(dir, name);
    writeFileSync(p, data);
    const fd = openRead(p);
    opened.push(fd);
    return fd;
  };
  try {
    const fd = open('image.efi', l.image);
    const initrdFd = l.initrd ? open('initrd', l.initrd) : -1;
    const addons = l.files.map((f, j) => ({ name: f.name, fd: open(`file${j}`, f.data) }));
    const reg = kernel.registerLoader({ eventA: hs.a, eventB: hs.b, addons });
    if (reg !== 0) throw new Error(`registerLoader refused the files: ${reg}`);
    const names = l.files.map((f) => f.name);
    let stopped = false;
    const serve = (async () => {
      while (!stopped) {
        if (!(await eventfdWait(hs.a, 20))) continue;
        loader.stage(new Uint8Array(readFileSync(kernel.procfs.bpfProg)), names);
        eventfdSignal(hs.b);
      }
    })();
    const errno = await kernel.kexecFileLoad({
      kernelFd: fd,
      initrdFd,
      ...(l.cmdline ? { cmdline: l.cmdline } : {}),
      flags: initrdFd < 0 ? KEXEC_FILE.NO_INITRAMFS : 0,
    });
    stopped = true;
    await serve;
    loader.endLoad();
    return errno;
  } finally {
    for (const fd of opened) closeSync(fd);
  }
};

const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

const run = async (): Promise<FuzzReport> => {
  const env = process.env.UKI_FUZZ_SEED;
  const seed = env === 'random' ? (Math.random() * 0x7fffffff) | 0 : Number(env || FUZZ_SEED);
  const count = Number(process.env.UKI_FUZZ_CASES || 240);
  const corpusSeed = Number(process.env.UKI_SEED || 20261122);
  const tmp = tempDir();
  const keys = testKeys();
  const bpf = await ukiParserObject();
  const withParser = (image: Uint8Array, signed: boolean) => {
    const i = upsertSection(image, { name: '.bpf', data: bpf });
    return signed ? sign(i, keys.rsa) : i;
  };
  const prepared = bases(corpusSeed).map((c) => ({
    c,
    image: withParser(c.image, false),
    signed: withParser(c.image, true),
  }));
  // compared by fd and target: fds that were open before and are closed since (tsx's, the runtime's) are no leak
  const before = openFds();
  const report: FuzzReport = {
    seed,
    cases: count,
    fdsBefore: before.size,
    fdsAfter: -1,
    fdsLeaked: [],
    kinds: {},
    reference: { compared: 0, agreed: 0 },
    control: [],
    loadMs: 0,
    maxCaseMs: 0,
    violations: [],
  };
  const violations = report.violations;
  const kernels = {
    kexec_sig: await Kernel.create({
      procRoot: join(tmp.dir, 'proc'),
      keyrings: { builtin: [keys.rsa.cert] },
      sigPolicy: 'kexec_sig',
      handshakeTimeoutMs: CASE_BUDGET_MS,
    }),
    kexec_sig_force: await Kernel.create({
      procRoot: join(tmp.dir, 'proc-force'),
      keyrings: { builtin: [keys.rsa.cert] },
      sigPolicy: 'kexec_sig_force',
      handshakeTimeoutMs: CASE_BUDGET_MS,
    }),
  };
  process.stderr.write('loading the UKI parser once per kernel (PROG_LOAD: the verifier)\n');
  const t0 = performance.now();
  const loaders = {
    kexec_sig: new ResidentLoader(kernels.kexec_sig, bpf),
    kexec_sig_force: new ResidentLoader(kernels.kexec_sig_force, bpf),
  };
  report.loadMs = Math.round(performance.now() - t0);
  const hs = { a: eventfdCreate(), b: eventfdCreate() };
  const baseline = {
    kexec_sig: [...kernels.kexec_sig.objects.fds],
    kexec_sig_force: [...kernels.kexec_sig_force.objects.fds],
  };

  /** One load with the state checks; returns errno, kimage and log, or undefined after a host exception. */
  const checked = async (label: string, policy: keyof typeof kernels, l: Load) => {
    const kernel = kernels[policy];
    const started = performance.now();
    try {
      if (kernel.kimage() !== undefined)
        await kernel.kexecFileLoad({ kernelFd: -1, initrdFd: -1, flags: KEXEC_FILE.UNLOAD });
      const before = kernel.dmesg().length;
      const errno = await kexecLoad(kernel, loaders[policy], hs, tmp.dir, l);
      const log = kernel.dmesg().slice(before);
      const kimage = kernel.kimage();
      if (!Number.isInteger(errno) || errno > 0) violations.push(`${label}: kexec_file_load returned ${errno}`);
      if (errno < 0 && errnoName(errno) === undefined) violations.push(`${label}: errno ${errno} is not a known errno`);
      if (errno < 0 && kimage !== undefined) violations.push(`${label}: failed with ${errno} but a kimage is loaded`);
      if (errno < 0 && !log.some((x) => x.includes('kexec_file') && x.includes('failed')))
        violations.push(`${label}: failed with ${errno} without a kexec_file log line`);
      if (errno === 0 && (kimage === undefined || kimage.kernel.length === 0))
        violations.push(`${label}: succeeded without a kimage kernel`);
      const left = kernel.objects.fds.filter((fd) => !baseline[policy].includes(fd));
      if (left.length > 0) violations.push(`${label}: kernel objects left after the load: ${left.join(',')}`);
      return { errno, kimage, log };
    } catch (e) {
      violations.push(`${label}: host exception: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      return undefined;
    } finally {
      const ms = performance.now() - started;
      report.maxCaseMs = Math.max(report.maxCaseMs, Math.round(ms));
      if (ms > CASE_BUDGET_MS) violations.push(`${label}: took ${Math.round(ms)} ms (budget ${CASE_BUDGET_MS} ms)`);
    }
  };

  // control: unmutated corpus cases, one per theme and builder where the corpus has them
  const controls: UkiCase[] = [];
  for (let i = 0; i < 104 && controls.length < Number(process.env.UKI_CONTROL_CASES || 13); i++) {
    const c = buildCase(corpusSeed, i);
    if (!controls.some((x) => x.spec.theme === c.spec.theme)) controls.push(c);
  }
  for (const c of controls) {
    process.stderr.write(`control case ${c.index}\n`);
    const files = [...c.files].sort(byName);
    const r = await checked(`control case ${c.index}`, 'kexec_sig_force', {
      image: withParser(c.image, true),
      files,
      cmdline: c.cmdline,
      initrd: c.initrd,
    });
    if (!r) continue;
    const m = compare(c.expected, {
      errno: r.errno,
      kernel: r.kimage?.kernel,
      initrd: r.kimage?.initrd,
      cmdline: r.kimage?.cmdline,
      log: r.log,
    });
    report.control.push({ index: c.index, theme: c.spec.theme, errno: r.errno, mismatches: m.map((x) => x.text) });
  }

  for (let i = 0; i < count; i++) {
    const [m] = fc.sample(mutationArb, { seed: caseSeed(seed, i), numRuns: 1 });
    if (m === undefined) throw new Error('no sample');
    const base = prepared[i % prepared.length]!;
    const label = `case ${i} (${m.kind}${m.signed ? ', signed' : ''}, base ${base.c.index}; UKI_FUZZ_SEED=${seed})`;
    process.stderr.write(`${label}\n`);
    const k = report.kinds[m.kind] ?? { cases: 0, reached: 0, outcomes: {} };
    report.kinds[m.kind] = k;
    let mutated: { image: Uint8Array; files: EspFile[] };
    try {
      mutated = mutate(m, m.signed ? base.signed : base.image, [...base.c.files].sort(byName));
    } catch (e) {
      violations.push(`${label}: the mutation itself failed: ${e}`);
      continue;
    }
    k.cases++;
    const r = await checked(label, m.signed ? 'kexec_sig_force' : 'kexec_sig', {
      ...mutated,
      cmdline: base.c.cmdline,
      initrd: base.c.initrd,
    });
    if (!r) continue;
    if (r.log.some((x) => x.includes('exposed at'))) k.reached++;
    const name = r.errno === 0 ? '0' : (errnoName(r.errno) ?? `E${-r.errno}`);
    k.outcomes[name] = (k.outcomes[name] ?? 0) + 1;
    if (r.errno === 0 && r.kimage) {
      // a mutated image the stub still boots should give the stub's result (counted, reported)
      let ref: ReturnType<typeof stubHandoff> | undefined;
      try {
        ref = stubHandoff({
          uki: mutated.image,
          ...(base.c.cmdline ? { loadOptions: base.c.cmdline } : {}),
          extraDir: mutated.files,
          secureBoot: false,
          ...(base.c.initrd ? { previousInitrd: base.c.initrd } : {}),
        });
      } catch {
        ref = undefined;
      }
      if (ref) {
        report.reference.compared++;
        const same = (x: Uint8Array | undefined, y: Uint8Array | undefined) =>
          Buffer.from(x ?? []).equals(Buffer.from(y ?? []));
        if (
          same(ref.kernel, r.kimage.kernel) &&
          same(ref.initrd, r.kimage.initrd) &&
          same(ref.cmdlineUtf8, cmdlineText(r.kimage.cmdline))
        )
          report.reference.agreed++;
      }
    }
  }
  for (const p of ['kexec_sig', 'kexec_sig_force'] as const) {
    loaders[p].close();
    kernels[p].registerLoader({ eventA: -1, eventB: -1 });
    kernels[p].shutdown();
    if (kernels[p].heldFds().length > 0)
      violations.push(`the ${p} kernel holds fds after shutdown: ${kernels[p].heldFds().join(',')}`);
  }
  closeRawFd(hs.a);
  closeRawFd(hs.b);
  tmp.remove();
  const after = openFds();
  report.fdsAfter = after.size;
  report.fdsLeaked = [...after].filter((fd) => !before.has(fd));
  return report;
};

process.stdout.write(`${JSON.stringify(await run())}\n`);
