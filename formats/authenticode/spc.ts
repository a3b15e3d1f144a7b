/**
 * SpcIndirectDataContent, the signed content of an Authenticode signature:
 *   SEQUENCE { data SEQUENCE { type OID (SPC_PE_IMAGE_DATA), value SpcPeImageData },
 *              messageDigest DigestInfo SEQUENCE { AlgorithmIdentifier, OCTET STRING image hash } }
 * SpcPeImageData = SEQUENCE { flags BIT STRING, file [0] EXPLICIT SpcLink }, with the customary
 * file = [2] EXPLICIT SpcString, unicode [0] IMPLICIT BMPString "<<<Obsolete>>>" (as sbsign writes it).
 */
import { bmpContents, childrenOf, nul, octets, oid, oidOf, seq, TAG, type Tlv, tlv } from './der.ts';
import { AUTHENTICODE_ERROR, AuthenticodeError } from './errors.ts';
import { DIGEST_OIDS, type DigestAlgorithm, digestByOid, OID } from './oids.ts';

const OBSOLETE = '<<<Obsolete>>>';

/** AlgorithmIdentifier of a digest, with NULL parameters as OpenSSL writes them. */
export const digestAlgorithmIdentifier = (alg: DigestAlgorithm): Uint8Array => seq(oid(DIGEST_OIDS[alg]), nul());

export const encodeSpcIndirectData = (alg: DigestAlgorithm, imageDigest: Uint8Array): Uint8Array => {
  const file = tlv(TAG.context(0), tlv(TAG.context(2), tlv(TAG.contextPrimitive(0), bmpContents(OBSOLETE))));
  const peImageData = seq(new Uint8Array([TAG.BIT_STRING, 1, 0]), file);
  return seq(seq(oid(OID.SPC_PE_IMAGE_DATA), peImageData), seq(digestAlgorithmIdentifier(alg), octets(imageDigest)));
};

export interface SpcIndirectData {
  readonly dataType: string;
  readonly digestAlgorithm: DigestAlgorithm;
  readonly digest: Uint8Array;
}

const notAuthenticode = (why: string, offset: number): AuthenticodeError =>
  new AuthenticodeError(AUTHENTICODE_ERROR.NOT_AUTHENTICODE, `SpcIndirectDataContent: ${why}`, offset);

/** Reads the parts of SpcIndirectDataContent the kernel's mscode parser reads. */
export const decodeSpcIndirectData = (t: Tlv): SpcIndirectData => {
  if (t.tag !== TAG.SEQUENCE) throw notAuthenticode('not a SEQUENCE', t.offset);
  const [data, digestInfo] = childrenOf(t);
  if (!data || !digestInfo || data.tag !== TAG.SEQUENCE || digestInfo.tag !== TAG.SEQUENCE) {
    throw notAuthenticode('expected the data and messageDigest SEQUENCEs', t.offset);
  }
  const dataType = oidOf(childrenOf(data)[0]);
  if (dataType !== OID.SPC_PE_IMAGE_DATA && dataType !== OID.SPC_INDIVIDUAL_SP_KEY_PURPOSE) {
    throw notAuthenticode(`data type ${dataType ?? '(none)'} is not SPC_PE_IMAGE_DATA`, data.offset);
  }
  const [algId, value] = childrenOf(digestInfo);
  const algOid = algId?.tag === TAG.SEQUENCE ? oidOf(childrenOf(algId)[0]) : undefined;
  const digestAlgorithm = algOid ? digestByOid(algOid) : undefined;
  if (!digestAlgorithm) {
    throw new AuthenticodeError(
      AUTHENTICODE_ERROR.UNSUPPORTED_ALGORITHM,
      `SpcIndirectDataContent digest algorithm ${algOid ?? '(none)'} is not supported`,
      algId?.offset ?? digestInfo.offset,
    );
  }
  if (value?.tag !== TAG.OCTET_STRING)
    throw notAuthenticode('messageDigest has no OCTET STRING digest', digestInfo.offset);
  return { dataType, digestAlgorithm, digest: value.contents };
};
