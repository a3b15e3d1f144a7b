/**
 * LZO1X block decoder with the checks of the kernel's lzo1x_decompress_safe: every read and write is
 * bounded, a match may not reach before the output start, the end marker must be the 3-byte M4 copy with
 * distance 0 and the whole input must be used. Written from the stream description in the kernel's
 * Documentation/staging/lzo.rst (bitstream version 0, which is what lzop writes).
 */

export const LZO_FAULT = {
  INPUT_OVERRUN: 'input overrun',
  OUTPUT_OVERRUN: 'output overrun',
  LOOKBEHIND_OVERRUN: 'lookbehind overrun',
  INPUT_NOT_CONSUMED: 'input not consumed',
  BAD_END_MARKER: 'bad end-of-stream marker',
} as const;
export type LzoFault = (typeof LZO_FAULT)[keyof typeof LZO_FAULT];

export class LzoFaultError extends Error {
  readonly fault: LzoFault;
  /** Offset in the block's compressed bytes. */
  readonly at: number;
  constructor(fault: LzoFault, at: number) {
    super(`${fault} at block byte ${at}`);
    this.fault = fault;
    this.at = at;
  }
}

const overrun = (fault: LzoFault, at: number): never => {
  throw new LzoFaultError(fault, at);
};

/** Copies `n` literal bytes from src[ip] to dst[op] after checking both bounds. */
const copyLiterals = (src: Uint8Array, ip: number, dst: Uint8Array, op: number, n: number): void => {
  if (src.length - ip < n) overrun(LZO_FAULT.INPUT_OVERRUN, ip);
  if (dst.length - op < n) overrun(LZO_FAULT.OUTPUT_OVERRUN, ip);
  if (n > 64) dst.set(src.subarray(ip, ip + n), op);
  else for (let i = 0; i < n; i++) dst[op + i] = src[ip + i]!;
};

/** Decodes `src` into `dst` (sized to the expected output); returns the number of bytes written. */
export const lzo1xDecode = (src: Uint8Array, dst: Uint8Array): number => {
  const inEnd = src.length;
  const outEnd = dst.length;
  let ip = 0;
  let op = 0;
  // state: how many literals the previous instruction copied (0..3), or 4 after a literal run.
  let state = 0;
  if (inEnd === 0) overrun(LZO_FAULT.INPUT_OVERRUN, 0);
  if (src[0]! > 17) {
    const t = src[ip++]! - 17;
    copyLiterals(src, ip, dst, op, t);
    ip += t;
    op += t;
    state = Math.min(t, 4);
  }
  for (;;) {
    if (ip >= inEnd) overrun(LZO_FAULT.INPUT_OVERRUN, ip);
    const t = src[ip++]!;
    let len: number;
    let dist: number;
    let next: number;
    if (t >= 64) {
      if (ip >= inEnd) overrun(LZO_FAULT.INPUT_OVERRUN, ip);
      len = t < 128 ? 3 + ((t >> 5) & 1) : 5 + ((t >> 5) & 3);
      dist = 1 + ((t >> 2) & 7) + (src[ip++]! << 3);
      next = t & 3;
    } else if (t >= 32) {
      len = t & 31;
      // A zero length field is extended: each zero byte adds 255, then the first non-zero byte is added.
      if (len === 0) {
        len = 31;
        for (;;) {
          if (ip >= inEnd) overrun(LZO_FAULT.INPUT_OVERRUN, ip);
          const b = src[ip++]!;
          if (b !== 0) {
            len += b;
            break;
          }
          len += 255;
        }
      }
      len += 2;
      if (inEnd - ip < 2) overrun(LZO_FAULT.INPUT_OVERRUN, ip);
      const v = src[ip]! | (src[ip + 1]! << 8);
      ip += 2;
      dist = 1 + (v >> 2);
      next = v & 3;
    } else if (t >= 16) {
      len = t & 7;
      if (len === 0) {
        len = 7;
        for (;;) {
          if (ip >= inEnd) overrun(LZO_FAULT.INPUT_OVERRUN, ip);
          const b = src[ip++]!;
          if (b !== 0) {
            len += b;
            break;
          }
          len += 255;
        }
      }
      len += 2;
      if (inEnd - ip < 2) overrun(LZO_FAULT.INPUT_OVERRUN, ip);
      const v = src[ip]! | (src[ip + 1]! << 8);
      ip += 2;
      dist = ((t & 8) << 11) + (v >> 2);
      next = v & 3;
      if (dist === 0) {
        if (len !== 3) overrun(LZO_FAULT.BAD_END_MARKER, ip - 3);
        if (ip !== inEnd) overrun(LZO_FAULT.INPUT_NOT_CONSUMED, ip);
        return op;
      }
      dist += 16384;
    } else if (state === 0) {
      // Literal run of 4 or more bytes.
      let n = t;
      if (n === 0) {
        n = 15;
        for (;;) {
          if (ip >= inEnd) overrun(LZO_FAULT.INPUT_OVERRUN, ip);
          const b = src[ip++]!;
          if (b !== 0) {
            n += b;
            break;
          }
          n += 255;
        }
      }
      n += 3;
      copyLiterals(src, ip, dst, op, n);
      ip += n;
      op += n;
      state = 4;
      continue;
    } else {
      if (ip >= inEnd) overrun(LZO_FAULT.INPUT_OVERRUN, ip);
      // After 1..3 literals: a 2-byte copy within 1 KiB; after a literal run: a 3-byte copy 2..3 KiB back.
      len = state < 4 ? 2 : 3;
      dist = (state < 4 ? 1 : 2049) + (t >> 2) + (src[ip++]! << 2);
      next = t & 3;
    }
    if (dist > op) overrun(LZO_FAULT.LOOKBEHIND_OVERRUN, ip);
    if (outEnd - op < len) overrun(LZO_FAULT.OUTPUT_OVERRUN, ip);
    if (dist >= len && len > 64) {
      dst.copyWithin(op, op - dist, op - dist + len);
      op += len;
    } else {
      for (let i = 0; i < len; i++, op++) dst[op] = dst[op - dist]!;
    }
    if (next) {
      copyLiterals(src, ip, dst, op, next);
      ip += next;
      op += next;
    }
    state = next;
  }
};
