/** Output collection with a hard cap: a chunk that would cross `maxOutput` raises before it is kept. */
import { DECOMPRESS_ERROR, DecompressError } from './errors.ts';

export class OutputSink {
  private readonly chunks: Uint8Array[] = [];
  private total = 0;
  readonly maxOutput: number;
  readonly format: string;
  constructor(maxOutput: number, format: string) {
    this.maxOutput = maxOutput;
    this.format = format;
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
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /** All output as one array (no copy when there is a single chunk). */
  bytes(): Uint8Array {
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
