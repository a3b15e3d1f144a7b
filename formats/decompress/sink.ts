/**
 * Output collection with a hard cap: a chunk that would cross `maxOutput` raises before it is kept. Either
 * growable (chunks joined at the end) or backed by a caller's destination (`into`, written from offset 0;
 * the cap is then at most its length), where decoders that can write in place take a `window` of it.
 */
import { DECOMPRESS_ERROR, DecompressError } from './errors.ts';

export class OutputSink {
  private readonly chunks: Uint8Array[] = [];
  private total = 0;
  readonly maxOutput: number;
  readonly format: string;
  private readonly into: Uint8Array | undefined;
  constructor(maxOutput: number, format: string, into?: Uint8Array) {
    this.maxOutput = into ? Math.min(maxOutput, into.length) : maxOutput;
    this.format = format;
    this.into = into;
  }

  get length(): number {
    return this.total;
  }

  /** Room left under the cap. */
  get room(): number {
    return this.maxOutput - this.total;
  }

  /** Fails with OUTPUT_LIMIT when `n` more bytes would exceed the cap; `offset` is the input position. */
  reserve(n: number, offset: number): void {
    if (n > this.room) {
      throw new DecompressError(
        DECOMPRESS_ERROR.OUTPUT_LIMIT,
        this.format,
        offset,
        `output exceeds the limit of ${this.maxOutput} bytes`,
      );
    }
  }

  push(chunk: Uint8Array, offset: number): void {
    this.reserve(chunk.length, offset);
    if (chunk.length === 0) return;
    if (this.into) this.into.set(chunk, this.total);
    else this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /**
   * With a destination, the next `n` bytes of it (fewer when the cap is nearer) for a decoder to write in
   * place and then `commit`; without one, undefined (the decoder allocates and pushes).
   */
  window(n: number): Uint8Array | undefined {
    return this.into?.subarray(this.total, this.total + Math.min(n, this.room));
  }

  /** Keeps `n` bytes written in place into `window`'s region. */
  commit(n: number, offset: number): void {
    this.reserve(n, offset);
    this.total += n;
  }

  /** All output as one array: a view of the destination, or the chunks (no copy when there is one). */
  bytes(): Uint8Array {
    if (this.into) return this.into.subarray(0, this.total);
    if (this.chunks.length === 1) return this.chunks[0]!;
    const out = new Uint8Array(this.total);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
