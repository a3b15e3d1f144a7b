/**
 * The attribute certificate table: a run of WIN_CERTIFICATE entries { u32 dwLength (header + data, no
 * padding), u16 wRevision, u16 wCertificateType, data }, each starting 8-byte aligned within the table.
 */
import { hex, PE_ERROR, PeError } from './errors.ts';
import { WIN_CERT } from './layout.ts';
import type { PeImage } from './read.ts';

export interface WinCertificate {
  /** Position in the table (0 = the first entry, the only one the Linux kernel looks at). */
  readonly index: number;
  /** File offset of the entry's header. */
  readonly offset: number;
  /** dwLength: header plus data, without the padding. */
  readonly length: number;
  readonly revision: number;
  readonly type: number;
  /** bCertificate: for PKCS_SIGNED_DATA, a DER PKCS#7 ContentInfo (possibly followed by junk). */
  readonly data: Uint8Array;
}

export interface CertificateTable {
  readonly entries: readonly WinCertificate[];
  /** Set when an entry after the valid ones is malformed; the walk stopped there. */
  readonly error: PeError | undefined;
}

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** Walks the certificate table of an image (empty when unsigned). Never throws: a bad entry ends the walk. */
export const readCertificateTable = (img: PeImage): CertificateTable => {
  const table = img.certificateTable;
  const entries: WinCertificate[] = [];
  if (!table) return { entries, error: undefined };
  const b = img.bytes;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const end = table.offset + table.size;
  let at = table.offset;
  while (at < end) {
    if (end - at < WIN_CERT.HEADER_SIZE) {
      // Padding that a signer left after the last entry.
      if (b.subarray(at, end).every((x) => x === 0)) break;
      return {
        entries,
        error: new PeError(
          PE_ERROR.BAD_CERTIFICATE_TABLE,
          at,
          `${end - at} stray bytes at the end of the certificate table`,
        ),
      };
    }
    const length = dv.getUint32(at + WIN_CERT.LENGTH, true);
    if (length < WIN_CERT.HEADER_SIZE || length > end - at) {
      return {
        entries,
        error: new PeError(
          PE_ERROR.BAD_CERTIFICATE_TABLE,
          at,
          `WIN_CERTIFICATE ${entries.length}: dwLength ${hex(length)} does not fit the ${hex(end - at)} bytes left in the table`,
        ),
      };
    }
    entries.push({
      index: entries.length,
      offset: at,
      length,
      revision: dv.getUint16(at + WIN_CERT.REVISION, true),
      type: dv.getUint16(at + WIN_CERT.TYPE, true),
      data: b.subarray(at + WIN_CERT.HEADER_SIZE, at + length),
    });
    at += alignUp(length, WIN_CERT.ALIGN);
  }
  return { entries, error: undefined };
};

/** One WIN_CERTIFICATE entry (revision 2.0, PKCS_SIGNED_DATA by default), zero-padded to 8 bytes. */
export const encodeCertificateEntry = (data: Uint8Array, type: number = WIN_CERT.TYPE_PKCS_SIGNED_DATA): Uint8Array => {
  const length = WIN_CERT.HEADER_SIZE + data.length;
  const out = new Uint8Array(alignUp(length, WIN_CERT.ALIGN));
  const dv = new DataView(out.buffer);
  dv.setUint32(WIN_CERT.LENGTH, length, true);
  dv.setUint16(WIN_CERT.REVISION, WIN_CERT.REVISION_2_0, true);
  dv.setUint16(WIN_CERT.TYPE, type, true);
  out.set(data, WIN_CERT.HEADER_SIZE);
  return out;
};

/** The bytes of entries (each re-padded to 8), as a certificate table to store. */
export const encodeCertificateTable = (entries: readonly Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(entries.reduce((n, e) => n + alignUp(e.length, WIN_CERT.ALIGN), 0));
  let at = 0;
  for (const e of entries) {
    out.set(e, at);
    at += alignUp(e.length, WIN_CERT.ALIGN);
  }
  return out;
};

/** The raw bytes of one entry as stored (header + data, unpadded), for re-use in a new table. */
export const entryBytes = (img: PeImage, e: WinCertificate): Uint8Array =>
  img.bytes.subarray(e.offset, e.offset + e.length);
