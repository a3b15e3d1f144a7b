/** PE/COFF: a reader that trusts nothing, and a writer for sections and the certificate table. */

export {
  type CertificateTable,
  encodeCertificateEntry,
  encodeCertificateTable,
  entryBytes,
  readCertificateTable,
  type WinCertificate,
} from './certificates.ts';
export { peChecksum, writeChecksum } from './checksum.ts';
export { PE_ERROR, PeError, type PeErrorCode } from './errors.ts';
export { DIRECTORY, MACHINE_NAMES, type PeFormat, SCN, WIN_CERT } from './layout.ts';
export {
  type CoffHeader,
  type DataDirectory,
  type FileRange,
  findSection,
  MAX_SECTION_DATA,
  type OptionalHeader,
  type PeImage,
  type PeOffsets,
  type PeSection,
  readPe,
  rvaToOffset,
  sectionData,
  virtualExtent,
} from './read.ts';
export {
  DEFAULT_SECTION_CHARACTERISTICS,
  padForSigning,
  removeSection,
  type SectionInput,
  setCertificateTable,
  stripSignatures,
  upsertSection,
  type WriteOptions,
} from './write.ts';
