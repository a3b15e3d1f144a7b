/** The contract every format decoder implements; the dispatcher in decompress.ts adds trailers and checks. */

export interface DecodeRequest {
  /** Upper bound of the output size; decoders fail with OUTPUT_LIMIT before allocating beyond it. */
  readonly maxOutput: number;
  /** The uncompressed size the caller expects (e.g. from a size trailer); a first guess only, never trusted. */
  readonly sizeHint: number | undefined;
}

export interface Decoded {
  readonly data: Uint8Array;
  /** Offset just past the compressed stream in the decoder's input. */
  readonly end: number;
}

export type Decoder = (input: Uint8Array, request: DecodeRequest) => Decoded;
