/**
 * `Bytes`: a bounded little-endian view over memory a program owns (a map value, a ring-buffer
 * record, a stack buffer, a sub-view of one of them). Its size is known to the compiler from where
 * the view came from. Every access outside the view is a fault: natively a `BoundsFault` that the
 * program runner turns into the program's fault return value; compiled, a bounds check that jumps to
 * the same return (the check is left out where the compiler proves the access in range).
 */
import type { i8, i16, i32, i64, u8, u16, u32, u64 } from './ints.ts';

/** An access outside a view. Natively ends the program with its `fault` value (see program.ts). */
export class BoundsFault extends RangeError {
  readonly code = 'BOUNDS_FAULT';
  readonly offset: number;
  readonly width: number;
  readonly size: number;
  constructor(offset: number, width: number, size: number) {
    super(`access of ${width} byte(s) at offset ${offset} outside a view of ${size} bytes`);
    this.offset = offset;
    this.width = width;
    this.size = size;
  }
}

export class Bytes {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Size in bytes (a compile-time constant for the compiler). */
  get size(): u32 {
    return this.#bytes.byteLength;
  }

  /** The underlying bytes (native mode only: the compiler refuses it). */
  raw(): Uint8Array {
    return this.#bytes;
  }

  #at(off: number, width: number): number {
    if (!Number.isSafeInteger(off) || off < 0 || off + width > this.#bytes.byteLength) {
      throw new BoundsFault(off, width, this.#bytes.byteLength);
    }
    return off;
  }

  u8(off: u32): u8 {
    return this.#view.getUint8(this.#at(off, 1));
  }
  u16(off: u32): u16 {
    return this.#view.getUint16(this.#at(off, 2), true);
  }
  u32(off: u32): u32 {
    return this.#view.getUint32(this.#at(off, 4), true);
  }
  u64(off: u32): u64 {
    return this.#view.getBigUint64(this.#at(off, 8), true);
  }
  i8(off: u32): i8 {
    return this.#view.getInt8(this.#at(off, 1));
  }
  i16(off: u32): i16 {
    return this.#view.getInt16(this.#at(off, 2), true);
  }
  i32(off: u32): i32 {
    return this.#view.getInt32(this.#at(off, 4), true);
  }
  i64(off: u32): i64 {
    return this.#view.getBigInt64(this.#at(off, 8), true);
  }

  /** Setters store the low bits of the value (the compiler proves it fits or asks for a wrap). */
  setU8(off: u32, v: u8): void {
    this.#view.setUint8(this.#at(off, 1), v);
  }
  setU16(off: u32, v: u16): void {
    this.#view.setUint16(this.#at(off, 2), v, true);
  }
  setU32(off: u32, v: u32): void {
    this.#view.setUint32(this.#at(off, 4), v, true);
  }
  setU64(off: u32, v: u64): void {
    this.#view.setBigUint64(this.#at(off, 8), v, true);
  }

  /** The `len` bytes at `off` as a view (`len` must be a constant for the compiler). */
  sub(off: u32, len: u32): Bytes {
    this.#at(off, len);
    return new Bytes(this.#bytes.subarray(off, off + len));
  }
}

/** A zero-filled buffer of `size` bytes on the program's stack (size a constant, at most 256). */
export const stackBytes = (size: u32): Bytes => new Bytes(new Uint8Array(size));
