/** cpio newc: reader, writer, systemd-stub sidecar archives, and a model of the kernel's initramfs unpacker. */
export { CPIO_ERROR, CpioError, type CpioErrorCode } from './errors.ts';
export {
  type InitramfsDecompress,
  type InitramfsEntry,
  type InitramfsMember,
  type InitramfsMethod,
  type InitramfsOptions,
  type InitramfsResult,
  unpackInitramfs,
} from './initramfs.ts';
export { checkName } from './names.ts';
export {
  CRC_MAGIC,
  FIELDS,
  FILE_TYPE,
  type FileType,
  fileTypeOf,
  HEADER_SIZE,
  NAME_MAX,
  NEWC_MAGIC,
  ODC_MAGIC,
  PATH_MAX,
  S_IFMT,
  TRAILER_NAME,
} from './newc.ts';
export { type CpioArchive, type CpioEntry, type ReadOptions, readCpio, readCpioArchives } from './reader.ts';
export {
  packSidecarDirectory,
  packSidecarLiteral,
  packStubArchive,
  SIDECARS,
  type SidecarDirectoryKind,
  type SidecarFile,
  type SidecarKind,
  type SidecarLiteralKind,
  selectSidecarFiles,
} from './sidecar.ts';
export { type CpioInput, type WriteOptions, writeCpio } from './writer.ts';
