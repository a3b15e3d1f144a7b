/** Adler-32 (RFC 1950), as lzop stores it. CRC-32 comes from node:zlib. */

const BASE = 65521;
/** Largest run of bytes whose sums cannot overflow 2^53 before reduction (zlib's NMAX is for 32-bit sums). */
const RUN = 1 << 20;

export const adler32 = (data: Uint8Array, seed = 1): number => {
  let a = seed & 0xffff;
  let b = seed >>> 16;
  for (let at = 0; at < data.length; at += RUN) {
    const end = Math.min(at + RUN, data.length);
    for (let i = at; i < end; i++) {
      a += data[i]!;
      b += a;
    }
    a %= BASE;
    b %= BASE;
  }
  return ((b << 16) | a) >>> 0;
};
