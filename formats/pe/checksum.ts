/**
 * The PE image checksum (the value `MapFileAndCheckSum`, sbsign and osslsigncode compute): the file summed as
 * little-endian 16-bit words with the carry folded back in, the CheckSum field itself counted as zero, plus
 * the file length. A trailing odd byte counts as a word with a zero high byte.
 */
export const peChecksum = (bytes: Uint8Array, checkSumOffset: number): number => {
  let sum = 0;
  const n = bytes.length;
  const even = n & ~1;
  for (let i = 0; i < even; i += 2) {
    if (i === checkSumOffset || i === checkSumOffset + 2) continue;
    sum += bytes[i]! | (bytes[i + 1]! << 8);
    // Fold lazily: sum stays far below 2^53 between folds.
    if (sum > 0x7fffffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  }
  if (n & 1) sum += bytes[n - 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return (sum + n) >>> 0;
};

/** Writes the checksum of `bytes` into its CheckSum field (in place; callers pass their own copy). */
export const writeChecksum = (bytes: Uint8Array, checkSumOffset: number): void => {
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(
    checkSumOffset,
    peChecksum(bytes, checkSumOffset),
    true,
  );
};
