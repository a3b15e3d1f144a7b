/**
 * The native and WebAssembly decoder packages, loaded through `require` (they are CommonJS addons) and typed
 * by the small interfaces below, which name only what this folder calls.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export type ZstdBinding = typeof import('zstd-napi/binding.js');

/** lz4-napi: lz4_flex block decoding of `[u32 LE max size][block]`. */
export interface Lz4Napi {
  uncompressSync(data: Uint8Array): Uint8Array;
}

/** lzma-native's native stream (liblzma), driven synchronously. */
export interface LzmaNativeStream {
  streamDecoder_(memlimit: number | null, flags: number): void;
  aloneDecoder_(memlimit: number | null): void;
  setBufsize(n: number): number;
  code(chunk: Uint8Array | null, async: boolean): void;
  resetUnderlying(): void;
  bufferHandler: (
    buf: Uint8Array | null | undefined,
    processedChunks: number | undefined,
    err: (Error & { code?: number; name?: string }) | null | undefined,
    totalIn: number | null | undefined,
    totalOut: number | null | undefined,
  ) => void;
}
export interface LzmaNative {
  Stream: new () => LzmaNativeStream;
}

/** @foxglove/wasm-bz2: libbz2's buffer-to-buffer decoder. */
export interface Bzip2Wasm {
  decompress(src: Uint8Array, destSize: number, options?: { small?: boolean }): Uint8Array;
}
interface Bzip2WasmClass {
  init(): Promise<Bzip2Wasm>;
}

let zstd: ZstdBinding | undefined;
let lz4: Lz4Napi | undefined;
let lzma: LzmaNative | undefined;

export const zstdBinding = (): ZstdBinding => {
  zstd ??= require('zstd-napi/binding.js') as ZstdBinding;
  return zstd;
};
export const lz4Napi = (): Lz4Napi => {
  lz4 ??= require('lz4-napi') as Lz4Napi;
  return lz4;
};
export const lzmaNative = (): LzmaNative => {
  lzma ??= require('lzma-native') as LzmaNative;
  return lzma;
};

let bzip2: Bzip2Wasm | undefined;
let bzip2Loading: Promise<Bzip2Wasm> | undefined;

/** Loads the bzip2 WebAssembly module once. */
export const loadBzip2 = async (): Promise<Bzip2Wasm> => {
  bzip2Loading ??= (require('@foxglove/wasm-bz2') as Bzip2WasmClass).init().then((m) => {
    bzip2 = m;
    return m;
  });
  return bzip2Loading;
};
/** The bzip2 module if `loadBzip2` has finished, else undefined. */
export const loadedBzip2 = (): Bzip2Wasm | undefined => bzip2;
