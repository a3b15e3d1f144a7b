/**
 * DER plumbing. Writing: leaf values are encoded by asn1js, constructed values are assembled from raw
 * child encodings (so certificates and names are embedded byte for byte). Reading: a small bounds-checked
 * TLV walker (BER lengths, indefinite lengths included, as the kernel's parser accepts) that keeps every
 * node's raw bytes and file offset; malformed input becomes AuthenticodeError BAD_PKCS7 at that offset.
 * (asn1js/pkijs parse a whole SignedData an order of magnitude slower; this walker is what verification uses.)
 */
import { createRequire } from 'node:module';
import type * as Asn1js from 'asn1js';
import { AUTHENTICODE_ERROR, AuthenticodeError } from './errors.ts';

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  SEQUENCE: 0x30,
  SET: 0x31,
  /** [n] constructed, context-specific (EXPLICIT, or IMPLICIT over a constructed type). */
  context: (n: number): number => 0xa0 | n,
  /** [n] primitive, context-specific (IMPLICIT over a primitive type). */
  contextPrimitive: (n: number): number => 0x80 | n,
} as const;

// ---------------------------------------------------------------- writing

const lengthBytes = (n: number): number[] => {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return [0x80 | out.length, ...out];
};

export const concat = (parts: readonly Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** A TLV with a one-byte tag around already-encoded contents. */
export const tlv = (tag: number, ...contents: readonly Uint8Array[]): Uint8Array => {
  const body = concat(contents);
  return concat([new Uint8Array([tag, ...lengthBytes(body.length)]), body]);
};

/** asn1js, loaded on first use (only signing writes DER): loading it eagerly costs every thread. */
let asn1jsModule: typeof Asn1js | undefined;
const asn1js = (): typeof Asn1js => {
  asn1jsModule ??= createRequire(import.meta.url)('asn1js') as typeof Asn1js;
  return asn1jsModule;
};

const ber = (node: Asn1js.AsnType): Uint8Array => new Uint8Array(node.toBER());
export const seq = (...children: readonly Uint8Array[]): Uint8Array => tlv(TAG.SEQUENCE, ...children);
export const oid = (value: string): Uint8Array => ber(new (asn1js().ObjectIdentifier)({ value }));
export const int = (value: number): Uint8Array => ber(new (asn1js().Integer)({ value }));
export const octets = (bytes: Uint8Array): Uint8Array => tlv(TAG.OCTET_STRING, bytes);
export const nul = (): Uint8Array => new Uint8Array([TAG.NULL, 0]);

/** BMPString contents: UTF-16 big-endian code units. */
export const bmpContents = (s: string): Uint8Array => {
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) {
    out[2 * i] = s.charCodeAt(i) >> 8;
    out[2 * i + 1] = s.charCodeAt(i) & 0xff;
  }
  return out;
};

export const compareBytes = (a: Uint8Array, b: Uint8Array): number => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
};

/** DER SET OF order: elements sorted by their encodings (X.690 11.6), as verifiers re-encode them. */
export const sortEncodings = (elements: readonly Uint8Array[]): Uint8Array[] => [...elements].sort(compareBytes);
export const setOf = (...elements: readonly Uint8Array[]): Uint8Array => tlv(TAG.SET, ...sortEncodings(elements));

// ---------------------------------------------------------------- reading

export interface Tlv {
  /** The identifier octet (single-byte tags only: PKCS#7 and X.509 need no others). */
  readonly tag: number;
  readonly constructed: boolean;
  /** Offset of the tag within the buffer given to readTlv (plus the caller's base, e.g. a file offset). */
  readonly offset: number;
  /** The whole encoding: tag, length and contents (for indefinite lengths, up to and including the EOC). */
  readonly raw: Uint8Array;
  /** The content octets (for indefinite lengths, without the closing EOC). */
  readonly contents: Uint8Array;
  /** Length of the tag and length octets. */
  readonly headerLength: number;
}

const MAX_DEPTH = 64;

const bad = (why: string, offset: number): AuthenticodeError =>
  new AuthenticodeError(AUTHENTICODE_ERROR.BAD_PKCS7, why, offset);

/** Reads the TLV at `at` (its end must not pass `limit`); `base` is added to reported offsets. */
export const readTlv = (b: Uint8Array, at = 0, limit = b.length, base = 0, depth = 0): Tlv => {
  if (depth > MAX_DEPTH) throw bad('ASN.1 nested too deeply', base + at);
  if (at + 2 > limit) throw bad('ASN.1 element cut short', base + at);
  const tag = b[at]!;
  if ((tag & 0x1f) === 0x1f) throw bad(`multi-byte ASN.1 tag 0x${tag.toString(16)}`, base + at);
  const constructed = (tag & 0x20) !== 0;
  const first = b[at + 1]!;
  let header = 2;
  let length: number;
  if (first === 0x80) {
    if (!constructed) throw bad('indefinite length on a primitive ASN.1 element', base + at);
    // Indefinite: children up to an end-of-contents marker 00 00.
    let p = at + 2;
    for (;;) {
      if (p + 2 > limit) throw bad('indefinite-length ASN.1 element has no end-of-contents', base + at);
      if (b[p] === 0 && b[p + 1] === 0) break;
      p += readTlv(b, p, limit, base, depth + 1).raw.length;
    }
    return {
      tag,
      constructed,
      offset: base + at,
      raw: b.subarray(at, p + 2),
      contents: b.subarray(at + 2, p),
      headerLength: 2,
    };
  }
  if (first < 0x80) {
    length = first;
  } else {
    const n = first & 0x7f;
    if (n > 4) throw bad(`ASN.1 length of ${n} octets`, base + at);
    if (at + 2 + n > limit) throw bad('ASN.1 length cut short', base + at);
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + b[at + 2 + i]!;
    header = 2 + n;
  }
  if (at + header + length > limit) {
    throw bad(`ASN.1 element of ${length} bytes runs past its container (${limit - at - header} left)`, base + at);
  }
  return {
    tag,
    constructed,
    offset: base + at,
    raw: b.subarray(at, at + header + length),
    contents: b.subarray(at + header, at + header + length),
    headerLength: header,
  };
};

/** The elements inside a constructed TLV, which must fill its contents exactly. */
export const childrenOf = (t: Tlv): Tlv[] => {
  if (!t.constructed) throw bad(`ASN.1 element 0x${t.tag.toString(16)} is not constructed`, t.offset);
  const out: Tlv[] = [];
  let at = 0;
  while (at < t.contents.length) {
    const c = readTlv(t.contents, at, t.contents.length, t.offset + t.headerLength);
    out.push(c);
    at += c.raw.length;
    if (out.length > 100_000) throw bad('too many ASN.1 elements', t.offset);
  }
  return out;
};

/** Reads exactly one element: the tag must be `tag`. */
export const expectTag = (t: Tlv | undefined, tag: number, what: string, at: number): Tlv => {
  if (!t || t.tag !== tag) {
    throw bad(
      `${what}: expected tag 0x${tag.toString(16)}, found ${t ? `0x${t.tag.toString(16)}` : 'nothing'}`,
      t?.offset ?? at,
    );
  }
  return t;
};

/** Dotted-decimal form of an OBJECT IDENTIFIER TLV (undefined when it is not one). */
export const oidOf = (t: Tlv | undefined): string | undefined => {
  if (!t || t.tag !== TAG.OID || t.contents.length === 0) return undefined;
  const arcs: number[] = [];
  let v = 0;
  for (const byte of t.contents) {
    v = v * 128 + (byte & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER / 256) return undefined;
    if ((byte & 0x80) === 0) {
      arcs.push(v);
      v = 0;
    }
  }
  if ((t.contents[t.contents.length - 1]! & 0x80) !== 0) return undefined;
  const first = arcs.shift()!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs].join('.');
};

export const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

export const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
