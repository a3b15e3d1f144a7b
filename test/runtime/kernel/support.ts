/**
 * Fixtures for the kernel model: a parser object (a BPF ELF whose program carries a section of its own
 * PE out as the new kernel), synthetic bzImage kernels, signed PE images with `.linux` + `.bpf`, and a
 * loader that runs in the test's own thread (the worker-thread loader is loader-worker.ts).
 */
import { mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ADDON_MAP,
  BPF_MAP_TYPE,
  INPUT_RINGBUF,
  KEXEC_BPF_RESULT,
  KEXEC_BPF_RESULT_MAGIC,
  KEXEC_BPF_RESULT_VERSION,
  KEXEC_PE_PARSER_HOOK,
  RESULT_RINGBUF,
} from '../../../bpf/abi/index.ts';
import { assembleUbpf } from '../../../bpf/asm/ubpf/index.ts';
import { writeObject } from '../../../bpf/elf/index.ts';
import { SETUP_HEADER } from '../../../formats/kernel/index.ts';
import { findSection, readPe } from '../../../formats/pe/index.ts';
import {
  eventfdSignal,
  eventfdWait,
  type Kernel,
  type LoadedParser,
  loadParser,
} from '../../../runtime/kernel/index.ts';
import { oursSign } from '../../formats/authenticode-support.ts';
import { buildPe } from '../../formats/pe-build.ts';
import { type KeyFiles, testKeys } from '../../support/fixtures.ts';

/** Size of the ring-buffer record the parser copies its image into. */
export const RECORD = 32768;

/**
 * `SEC("fentry.s/kexec_pe_parser_hook")`: reserve a record, carrier IN "kernel" into it, carrier OUT
 * the bytes [off, off+len) as the new "kernel", discard the record. `tag` changes one constant so a
 * different (swapped) program can be made.
 */
export interface ParserVariant {
  /** A constant of no effect (the discard flags): a different program of the same shape. */
  readonly tag?: number;
  /** Bytes carried in (more than RECORD makes the verifier refuse the program). */
  readonly inSize?: number;
  /** The .rodata contents ("kernel" at 0, the addon directory at 8). */
  readonly rodata?: Uint8Array;
  /** Also append addon 0 of the addon-name map to the initrd and report the helper's result. */
  readonly addon?: boolean;
}

export const parserObject = (off: number, len: number, v: ParserVariant = {}): Uint8Array => {
  const { tag = 0, inSize = RECORD, rodata = new Uint8Array(Buffer.from('kernel\0\0/.extra/sysext\0', 'latin1')) } = v;
  const addon = v.addon === true;
  const text = `
    lddw %r1, 0
    mov %r2, ${RECORD}
    mov %r3, 0
    call 131
    jeq %r0, 0, out
    mov %r7, %r0
    lddw %r1, 0
    mov %r2, %r7
    mov %r3, ${inSize}
    mov %r4, 0
    call 212
    jslt %r0, ${off + len}, drop
    lddw %r1, 0
    mov %r2, %r7
    add %r2, ${off}
    mov %r3, ${len}
    mov %r4, 1
    call 212
  drop:
    mov %r1, %r7
    mov %r2, ${tag}
    call 133
    ${addon ? ADDON_STEPS : ''}
  out:
    mov %r0, 0
    exit`;
  const insns = assembleUbpf(text).insns;
  const lddws = insns.flatMap((i, at) => (i.spec.slots === 2 ? [at] : []));
  const symbols = [INPUT_RINGBUF, '.rodata', '.rodata', ...(addon ? [ADDON_MAP.name, '.rodata', RESULT_RINGBUF] : [])];
  return writeObject({
    license: 'GPL',
    programs: [
      {
        name: 'parse_pe',
        section: KEXEC_PE_PARSER_HOOK.section,
        insns,
        relocations: symbols.map((symbol, k) => ({
          insn: lddws[k] as number,
          symbol,
          ...(symbol === '.rodata' ? { section: true } : {}),
        })),
      },
    ],
    maps: [
      { name: INPUT_RINGBUF, type: BPF_MAP_TYPE.RINGBUF, maxEntries: 2 * RECORD },
      ...(addon
        ? [
            {
              name: ADDON_MAP.name,
              type: BPF_MAP_TYPE.ARRAY,
              keySize: ADDON_MAP.keySize,
              valueSize: ADDON_MAP.valueSize,
              maxEntries: ADDON_MAP.maxEntries,
              flags: ADDON_MAP.mapFlags,
            },
            { name: RESULT_RINGBUF, type: BPF_MAP_TYPE.RINGBUF, maxEntries: 4096 },
          ]
        : []),
    ],
    data: [{ name: '.rodata', bytes: rodata }],
  });
};

/**
 * Appends the addon named in slot 0 of the addon-name map to the initrd under /.extra/sysext
 * (bpf_helper_supplement_initrd) and submits a kexec_bpf_result whose status is the helper's return.
 */
const ADDON_STEPS = `
    stw [%r10-4], 0
    mov %r2, %r10
    add %r2, -4
    lddw %r1, 0
    call 1
    jeq %r0, 0, out
    mov %r2, %r0
    lddw %r1, 8
    mov %r3, ${ADDON_MAP.valueSize}
    call 214
    mov %r6, %r0
    jsgt %r6, 0, ok
    ja report
  ok:
    mov %r6, 0
  report:
    lddw %r1, 0
    mov %r2, ${KEXEC_BPF_RESULT.size}
    mov %r3, 0
    call 131
    jeq %r0, 0, out
    stw [%r0], ${KEXEC_BPF_RESULT_MAGIC}
    sth [%r0+4], ${KEXEC_BPF_RESULT_VERSION}
    stxw [%r0+8], %r6
    mov %r1, %r0
    mov %r2, 0
    call 132`;

/**
 * A parser that only reports: one kexec_bpf_result record with `status`, submitted to `kexec_result`
 * (docs/ABI.md §4); it leaves the resources alone.
 */
export const reportingObject = (status: number, end: 'submit' | 'discard' = 'submit'): Uint8Array => {
  const insns = assembleUbpf(`
    lddw %r1, 0
    mov %r2, ${KEXEC_BPF_RESULT.size}
    mov %r3, 0
    call 131
    jeq %r0, 0, out
    mov %r1, %r0
    stw [%r1], ${KEXEC_BPF_RESULT_MAGIC}
    sth [%r1+4], ${KEXEC_BPF_RESULT_VERSION}
    sth [%r1+6], 0
    stw [%r1+8], ${status}
    stw [%r1+12], 0
    stdw [%r1+16], 0x74736574
    mov %r2, 0
    call ${end === 'submit' ? 132 : 133}
  out:
    mov %r0, 0
    exit`).insns;
  return writeObject({
    license: 'GPL',
    programs: [
      {
        name: 'report',
        section: KEXEC_PE_PARSER_HOOK.section,
        insns,
        relocations: [{ insn: 0, symbol: RESULT_RINGBUF }],
      },
    ],
    maps: [{ name: RESULT_RINGBUF, type: BPF_MAP_TYPE.RINGBUF, maxEntries: 4096 }],
  });
};

/** A minimal bzImage64 (protocol 2.15, 64-bit, loadable above 4 GiB) around `payload`. */
export const synthBzImage = (payload: Uint8Array, xloadflags = 3): Uint8Array => {
  const pm = 5 * 512;
  const f = new Uint8Array(pm + 0x100 + payload.length);
  const v = new DataView(f.buffer);
  f[SETUP_HEADER.setup_sects] = 4;
  v.setUint16(SETUP_HEADER.boot_flag, 0xaa55, true);
  f.set([0x48, 0x64, 0x72, 0x53], SETUP_HEADER.header);
  v.setUint16(SETUP_HEADER.version, 0x020f, true);
  f[SETUP_HEADER.loadflags] = 1;
  v.setUint16(SETUP_HEADER.xloadflags, xloadflags, true);
  v.setUint32(SETUP_HEADER.kernel_alignment, 0x200000, true);
  v.setUint32(SETUP_HEADER.cmdline_size, 2047, true);
  v.setUint32(SETUP_HEADER.payload_offset, 0x100, true);
  v.setUint32(SETUP_HEADER.payload_length, payload.length, true);
  v.setUint32(SETUP_HEADER.init_size, 0x345000, true);
  f.set(payload, pm + 0x100);
  return f;
};

export const payload = (n: number, seed = 1): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);

/** An unsigned PE with `.linux` = inner and a `.bpf` parser that extracts it (or `bpf` as given). */
export const parserPe = (inner: Uint8Array, bpf?: (off: number, len: number) => Uint8Array): Uint8Array => {
  const make = (obj: Uint8Array) =>
    buildPe({
      sections: [
        { name: '.linux', data: inner, characteristics: 0x40000040 },
        { name: '.bpf', data: obj, characteristics: 0x40000040 },
      ],
    }).bytes;
  // .linux comes first, so its place does not depend on the object's size
  const probe = readPe(make(parserObject(0, 1)));
  const s = findSection(probe, '.linux');
  if (s === undefined) throw new Error('no .linux');
  const obj = (bpf ?? parserObject)(s.pointerToRawData, inner.length);
  return make(obj);
};

export const sign = (image: Uint8Array, keys: KeyFiles = testKeys().rsa): Uint8Array => oursSign(image, keys);

/** A temporary directory (removed by the returned function). */
export const tempDir = (): { dir: string; remove: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), 'ukibpf-kernel-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
};

export const openRead = (path: string): number => openSync(path, 'r');

/** Open fds of this process. */
export const fdCount = (): number => readdirSync('/proc/self/fd').length;

/** Open fds of this process, each as "fd -> what it refers to". */
export const openFds = (): Set<string> => {
  const fds = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      fds.add(`${fd} -> ${readlinkSync(`/proc/self/fd/${fd}`)}`);
    } catch {
      // closed since the directory was read (the listing's own fd, another thread's)
    }
  }
  return fds;
};

export interface InThreadLoader {
  /** Resolves when the loader stopped; results of each stage. */
  readonly done: Promise<(LoadedParser | string)[]>;
  stop(): void;
}

/**
 * A loader in the test's own thread (asynchronous waits, so the kernel keeps running): for each signal
 * on eventfd A, read procfs, load `object(bytes)` (default: what procfs holds), attach, signal B.
 */
export const inThreadLoader = (
  kernel: Kernel,
  eventA: number,
  eventB: number,
  o: {
    object?: (section: Uint8Array) => Uint8Array;
    /** 'load' (default), 'signal' (answer without attaching), 'ignore' (never answer). */
    mode?: 'load' | 'signal' | 'ignore';
    /** Names for the addon-name map. */
    addons?: readonly string[];
    stages?: number;
  } = {},
): InThreadLoader => {
  let stopped = false;
  const run = async (): Promise<(LoadedParser | string)[]> => {
    const out: (LoadedParser | string)[] = [];
    while (!stopped && out.length < (o.stages ?? 8)) {
      if (!(await eventfdWait(eventA, 20))) continue;
      const section = new Uint8Array(readFileSync(kernel.procfs.bpfProg));
      if (o.mode === 'ignore') {
        out.push('ignored');
        continue;
      }
      if (o.mode === 'signal') {
        out.push('signalled');
        eventfdSignal(eventB);
        continue;
      }
      const r = loadParser(kernel, o.object ? o.object(section) : section, { logLevel: 1, addons: o.addons ?? [] });
      out.push('progFd' in r ? r : `${r.step}: ${r.errno} ${r.message}\n${r.log}`);
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

/** Closes what a loader's stages created (prog, link, map fds). */
export const closeLoaded = (sys: { close(fd: number): number }, results: readonly (LoadedParser | string)[]): void => {
  for (const r of results) {
    if (typeof r === 'string') continue;
    sys.close(r.linkFd);
    sys.close(r.progFd);
    for (const fd of r.mapFds.values()) sys.close(fd);
  }
};

/** A minimal arm64 Image header (magic, image_size) around `body`. */
export const synthArm64Image = (body: Uint8Array): Uint8Array => {
  const f = new Uint8Array(64 + body.length);
  const v = new DataView(f.buffer);
  v.setBigUint64(0x10, BigInt(f.length + 0x10000), true);
  v.setBigUint64(0x18, 0xan, true);
  v.setUint32(0x38, 0x644d5241, true);
  f.set(body, 64);
  return f;
};
