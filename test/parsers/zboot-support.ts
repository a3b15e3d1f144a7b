/**
 * Running parsers/zboot.ts natively (the DSL library with runtime/helpers' nativeHelperHost) and
 * compiled (runtime/vm with kexecHelpers over runtime/helpers' maps), and building zboot images.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { BPF_MAP_TYPE } from '../../bpf/abi/index.ts';
import { type Program, setHelperHost } from '../../compiler/dsl/index.ts';
import type { RingBuf } from '../../compiler/dsl/maps.ts';
import { type CompileOutput, compileSource, linkedInsns, linkedMaps } from '../../compiler/index.ts';
import { buildZbootHeader, ZBOOT, type ZbootCompressionType } from '../../formats/kernel/index.ts';
import {
  type BpfMap,
  decodeKexecResult,
  type KexecResult,
  ArrayMap as KernelArrayMap,
  RingBuf as KernelRingBuf,
  kexecHelpers,
  MapTable,
  nativeHelperHost,
  ResourceStore,
} from '../../runtime/helpers/index.ts';
import { Memory, Vm } from '../../runtime/vm/index.ts';

export const ZBOOT_PARSER = new URL('../../parsers/zboot.ts', import.meta.url).pathname;

let compiled: CompileOutput | undefined;
/** The compiled parser (compiled once per test file). */
export const zbootCompiled = (): CompileOutput => {
  compiled ??= compileSource(ZBOOT_PARSER, readFileSync(ZBOOT_PARSER, 'utf8'));
  return compiled;
};

/** Compressed with the tool the kernel build uses for each zboot type (gzip through node:zlib). */
const TOOLS: Record<Exclude<ZbootCompressionType, 'gzip'>, { tool: string; args: string[] }> = {
  zstd: { tool: 'zstd', args: ['-19', '-c'] },
  zstd22: { tool: 'zstd', args: ['--ultra', '-22', '-c'] },
  lz4: { tool: 'lz4', args: ['-l', '-9', '-c'] },
  lzma: { tool: 'xz', args: ['--format=lzma', '-9', '-c'] },
  lzo: { tool: 'lzop', args: ['-9', '-c'] },
  xzkern: { tool: 'xz', args: ['--format=xz', '--check=crc32', '-c'] },
};

export const toolFor = (type: ZbootCompressionType): string | undefined =>
  type === 'gzip' ? undefined : TOOLS[type].tool;

export const compress = (type: ZbootCompressionType, data: Uint8Array): Uint8Array => {
  if (type === 'gzip') return new Uint8Array(gzipSync(data));
  const { tool, args } = TOOLS[type];
  const r = spawnSync(tool, args, { input: data, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${tool} failed: ${r.stderr.toString()}`);
  return new Uint8Array(r.stdout);
};

export const sizeTrailer = (type: ZbootCompressionType): number => (type === 'gzip' ? 0 : 4);

/** Where test images put the payload (the zboot stub's code would sit in between). */
export const PAYLOAD_OFFSET = 0x200;

/**
 * A raw zboot image: header, payload at PAYLOAD_OFFSET, the 4-byte length trailer for non-gzip types
 * (`trailer` overrides its value), and `tail` bytes after it.
 */
export const zbootImage = (
  type: ZbootCompressionType,
  payload: Uint8Array,
  o: { trailer?: number; tail?: number; kernelLength: number },
): Uint8Array => {
  const t = sizeTrailer(type);
  const f = new Uint8Array(PAYLOAD_OFFSET + payload.length + t + (o.tail ?? 0));
  f.set(
    buildZbootHeader({
      payloadOffset: PAYLOAD_OFFSET,
      payloadSize: payload.length,
      compressionType: type,
      peHeaderOffset: ZBOOT.HEADER_SIZE,
    }),
  );
  f.set(payload, PAYLOAD_OFFSET);
  if (t) new DataView(f.buffer).setUint32(PAYLOAD_OFFSET + payload.length, o.trailer ?? o.kernelLength, true);
  return f;
};

export interface Outcome {
  readonly result: KexecResult | undefined;
  /** Submitted result records (exactly one expected). */
  readonly records: number;
  readonly kernel: Uint8Array | undefined;
}

/** Runs the parser natively at `depth` with `image` as the kernel resource. */
export const runNative = async (image: Uint8Array, depth = 0): Promise<Outcome> => {
  const mod = (await import(ZBOOT_PARSER)) as { parse: Program; kexec_result: RingBuf };
  const resources = new ResourceStore({ kernel: image });
  const prev = setHelperHost(nativeHelperHost({ resources }));
  try {
    const r0 = mod.parse.run([0n, BigInt(depth)]);
    if (r0 !== 0) throw new Error(`parse returned ${r0}`);
    const recs = mod.kexec_result.drain();
    return { result: recs[0] && decodeKexecResult(recs[0]), records: recs.length, kernel: resources.get('kernel') };
  } finally {
    setHelperHost(prev);
  }
};

/** Runs the compiled parser in runtime/vm with the kernel's helper models. */
export const runCompiled = (image: Uint8Array, depth = 0): Outcome => {
  const out = zbootCompiled();
  const prog = out.programs[0];
  if (prog === undefined) throw new Error('parsers/zboot.ts did not compile');
  const maps = new MapTable();
  for (const m of linkedMaps(out)) {
    const map: BpfMap =
      m.type === BPF_MAP_TYPE.RINGBUF
        ? new KernelRingBuf({ name: m.name, maxEntries: m.maxEntries })
        : new KernelArrayMap({ ...m, mapFlags: m.flags ?? 0 });
    if (map instanceof KernelArrayMap && m.data !== undefined) map.element(0).set(m.data);
    maps.add(map);
  }
  const resources = new ResourceStore({ kernel: image });
  const memory = new Memory();
  const vm = new Vm(linkedInsns(out, prog), {
    helpers: kexecHelpers({ maps, resources }),
    memory,
    resolveLddw: maps.resolver(memory),
  });
  const ctx = new Uint8Array(16);
  new DataView(ctx.buffer).setBigUint64(8, BigInt(depth), true);
  const { r0 } = vm.run({ mem: ctx, memKind: 'ctx' });
  if (r0 !== 0n) throw new Error(`parse returned ${r0}`);
  const recs = (maps.byName('kexec_result') as KernelRingBuf).drain().map((r) => r.data.slice());
  return { result: recs[0] && decodeKexecResult(recs[0]), records: recs.length, kernel: resources.get('kernel') };
};
