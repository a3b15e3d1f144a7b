/** The contract every format decoder implements; the dispatcher in decompress.ts adds trailers and checks. */

export interface DecodeRequest {
  /** Upper bound of the output size; decoders fail with OUTPUT_LIMIT before allocating beyond it. */
  readonly maxOutput: number;
  /** The uncompressed size the caller expects (e.g. from a size trailer); a first guess only, never trusted. */
  readonly sizeHint: number | undefined;
  /**
   * A caller's destination (decompressInto): output goes into it from offset 0 and `maxOutput` is at most its
   * length. Decoders that can write in place do (returning a view of it); the dispatcher copies other output in.
   */
  readonly into?: Uint8Array;
}

export interface Decoded {
  readonly data: Uint8Array;
  /** Offset just past the compressed stream in the decoder's input. */
  readonly end: number;
}

export type Decoder = (input: Uint8Array, request: DecodeRequest) => Decoded;
