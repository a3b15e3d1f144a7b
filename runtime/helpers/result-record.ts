/** The `struct kexec_bpf_result` record a parser submits to `kexec_result` (docs/ABI.md §4), decoded for the host. */
import {
  fieldOf,
  KEXEC_BPF_RESULT,
  KEXEC_BPF_RESULT_F,
  KEXEC_BPF_RESULT_MAGIC,
  KEXEC_BPF_RESULT_VERSION,
} from '../../bpf/abi/index.ts';

export interface KexecResult {
  readonly version: number;
  readonly flags: number;
  /** Names of the set flag bits (KERNEL, INITRD, CMDLINE, NESTED). */
  readonly flagNames: readonly (keyof typeof KEXEC_BPF_RESULT_F)[];
  /** 0 or -errno */
  readonly status: number;
  readonly depth: number;
  readonly format: string;
  readonly detail: string;
}

/** Why a record is not a result record; undefined fields of a valid one. */
export class ResultRecordError extends Error {
  override readonly name = 'ResultRecordError';
  readonly code = 'BAD_RESULT_RECORD';
  /** Byte offset in the record of the field at fault. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`kexec_bpf_result: ${message} (at record offset ${offset})`);
    this.offset = offset;
  }
}

const text = (b: Uint8Array, name: string): string => {
  const f = fieldOf(KEXEC_BPF_RESULT, name);
  const raw = b.subarray(f.offset, f.offset + f.size);
  const nul = raw.indexOf(0);
  return Buffer.from(nul < 0 ? raw : raw.subarray(0, nul)).toString('latin1');
};

/** Decodes a drained record; throws ResultRecordError for a wrong size, magic or version. */
export const decodeKexecResult = (record: Uint8Array): KexecResult => {
  if (record.length !== KEXEC_BPF_RESULT.size)
    throw new ResultRecordError(`${record.length} bytes, expected ${KEXEC_BPF_RESULT.size}`, 0);
  const v = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const at = (name: string) => fieldOf(KEXEC_BPF_RESULT, name).offset;
  const magic = v.getUint32(at('magic'), true);
  if (magic !== KEXEC_BPF_RESULT_MAGIC)
    throw new ResultRecordError(
      `magic 0x${magic.toString(16)} is not 0x${KEXEC_BPF_RESULT_MAGIC.toString(16)}`,
      at('magic'),
    );
  const version = v.getUint16(at('version'), true);
  if (version !== KEXEC_BPF_RESULT_VERSION)
    throw new ResultRecordError(`version ${version} is not ${KEXEC_BPF_RESULT_VERSION}`, at('version'));
  const flags = v.getUint16(at('flags'), true);
  return {
    version,
    flags,
    flagNames: (Object.keys(KEXEC_BPF_RESULT_F) as (keyof typeof KEXEC_BPF_RESULT_F)[]).filter(
      (k) => (flags & KEXEC_BPF_RESULT_F[k]) !== 0,
    ),
    status: v.getInt32(at('status'), true),
    depth: v.getUint32(at('depth'), true),
    format: text(record, 'format'),
    detail: text(record, 'detail'),
  };
};
