/** Object identifiers used by Authenticode PKCS#7 signatures. */
export const OID = {
  SIGNED_DATA: '1.2.840.113549.1.7.2',
  CONTENT_TYPE: '1.2.840.113549.1.9.3',
  MESSAGE_DIGEST: '1.2.840.113549.1.9.4',
  SIGNING_TIME: '1.2.840.113549.1.9.5',
  SPC_INDIRECT_DATA: '1.3.6.1.4.1.311.2.1.4',
  SPC_PE_IMAGE_DATA: '1.3.6.1.4.1.311.2.1.15',
  SPC_STATEMENT_TYPE: '1.3.6.1.4.1.311.2.1.11',
  SPC_SP_OPUS_INFO: '1.3.6.1.4.1.311.2.1.12',
  /** Also the statement type we sign with; the kernel accepts it in place of SPC_PE_IMAGE_DATA (old pesign bug). */
  SPC_INDIVIDUAL_SP_KEY_PURPOSE: '1.3.6.1.4.1.311.2.1.21',
  SUBJECT_KEY_IDENTIFIER: '2.5.29.14',
  RSA_ENCRYPTION: '1.2.840.113549.1.1.1',
  EC_PUBLIC_KEY: '1.2.840.10045.2.1',
} as const;

export type DigestAlgorithm = 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

export const DIGEST_OIDS: Readonly<Record<DigestAlgorithm, string>> = {
  sha1: '1.3.14.3.2.26',
  sha224: '2.16.840.1.101.3.4.2.4',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
};

export const digestByOid = (oid: string): DigestAlgorithm | undefined =>
  (Object.keys(DIGEST_OIDS) as DigestAlgorithm[]).find((k) => DIGEST_OIDS[k] === oid);

/** Signature algorithms a SignerInfo or certificate may name, with the digest they imply (if any). */
export const SIGNATURE_OIDS: Readonly<Record<string, { key: 'rsa' | 'ec'; digest?: DigestAlgorithm }>> = {
  '1.2.840.113549.1.1.1': { key: 'rsa' },
  '1.2.840.113549.1.1.5': { key: 'rsa', digest: 'sha1' },
  '1.2.840.113549.1.1.14': { key: 'rsa', digest: 'sha224' },
  '1.2.840.113549.1.1.11': { key: 'rsa', digest: 'sha256' },
  '1.2.840.113549.1.1.12': { key: 'rsa', digest: 'sha384' },
  '1.2.840.113549.1.1.13': { key: 'rsa', digest: 'sha512' },
  '1.2.840.10045.2.1': { key: 'ec' },
  '1.2.840.10045.4.1': { key: 'ec', digest: 'sha1' },
  '1.2.840.10045.4.3.1': { key: 'ec', digest: 'sha224' },
  '1.2.840.10045.4.3.2': { key: 'ec', digest: 'sha256' },
  '1.2.840.10045.4.3.3': { key: 'ec', digest: 'sha384' },
  '1.2.840.10045.4.3.4': { key: 'ec', digest: 'sha512' },
};

/** Short names of X.509 name attributes, as OpenSSL prints them (sbverify, osslsigncode). */
export const NAME_ATTRIBUTES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.42': 'GN',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
};
