/**
 * The Authenticode image hash, exactly as Linux (`pefile_digest_pe_contents`), EDK2 (`HashPeImage`) and
 * sbsign compute it:
 *  1. the headers up to SizeOfHeaders, leaving out the CheckSum field and the certificate-table directory
 *     entry (DataDirectory[4], when NumberOfRvaAndSizes > 4);
 *  2. each section's SizeOfRawData bytes, sorted by PointerToRawData (ties as the kernel breaks them),
 *     skipping empty ones; SUM = SizeOfHeaders + their sizes;
 *  3. if the file is longer than SUM, `file size − SUM − certificate table size` bytes starting at file
 *     offset SUM (a byte count used as an offset: right only for contiguous sections and a table at EOF).
 * Zero padding before the certificate table is therefore hashed; signers pad to 8 bytes before signing.
 */
import { createHash } from 'node:crypto';
import type { PeImage, PeSection } from '../pe/index.ts';
import { AUTHENTICODE_ERROR, AuthenticodeError } from './errors.ts';
import type { DigestAlgorithm } from './oids.ts';

export interface HashRange {
  readonly offset: number;
  readonly size: number;
  /** What the range holds: "headers", a section name, or "trailing data". */
  readonly what: string;
}

const nameKey = (s: PeSection): Uint8Array => {
  const nul = s.rawName.indexOf(0);
  return nul < 0 ? s.rawName : s.rawName.subarray(0, nul);
};

const compareBytes = (a: Uint8Array, b: Uint8Array): number => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
};

/** The kernel's canonical section order (pefile_compare_shdrs). */
const compareSections = (a: PeSection, b: PeSection): number =>
  a.pointerToRawData - b.pointerToRawData ||
  a.virtualAddress - b.virtualAddress ||
  compareBytes(nameKey(a), nameKey(b)) ||
  a.virtualSize - b.virtualSize ||
  a.sizeOfRawData - b.sizeOfRawData;

/** The file ranges hashed, in hashing order. */
export const hashedRanges = (img: PeImage): HashRange[] => {
  const { checkSum, securityDirectory } = img.offsets;
  const headersEnd = img.optional.sizeOfHeaders;
  const ranges: HashRange[] = [{ offset: 0, size: checkSum, what: 'headers' }];
  if (securityDirectory === undefined) {
    ranges.push({ offset: checkSum + 4, size: headersEnd - checkSum - 4, what: 'headers' });
  } else {
    ranges.push({ offset: checkSum + 4, size: securityDirectory - checkSum - 4, what: 'headers' });
    ranges.push({ offset: securityDirectory + 8, size: headersEnd - securityDirectory - 8, what: 'headers' });
  }
  let sum = headersEnd;
  for (const s of [...img.sections].sort(compareSections)) {
    if (s.sizeOfRawData === 0) continue;
    ranges.push({ offset: s.pointerToRawData, size: s.sizeOfRawData, what: s.name });
    sum += s.sizeOfRawData;
  }
  const fileSize = img.bytes.length;
  if (fileSize > sum) {
    const size = fileSize - sum - (img.certificateTable?.size ?? 0);
    if (size < 0) {
      throw new AuthenticodeError(
        AUTHENTICODE_ERROR.HASH_LAYOUT,
        `headers and sections (${sum} bytes) plus the certificate table (${img.certificateTable?.size} bytes) exceed the file (${fileSize} bytes)`,
        img.offsets.securityDirectory,
      );
    }
    if (size > 0) ranges.push({ offset: sum, size, what: 'trailing data' });
  }
  return ranges;
};

/** The Authenticode digest of a parsed image. */
export const imageDigest = (img: PeImage, algorithm: DigestAlgorithm = 'sha256'): Uint8Array => {
  const h = createHash(algorithm);
  for (const r of hashedRanges(img)) h.update(img.bytes.subarray(r.offset, r.offset + r.size));
  return new Uint8Array(h.digest());
};

/** Whether a file offset is covered by the hash (for tests and `inspect`). */
export const isHashed = (ranges: readonly HashRange[], offset: number): boolean =>
  ranges.some((r) => offset >= r.offset && offset < r.offset + r.size);
