/**
 * bpf_helper_decompress(src, src_size, dst, dst_size) (213), docs/ABI.md §2.2: the kernel decompressor
 * chosen by magic (formats/decompress), output bounded by dst_size. Every byte of dst is written — the
 * output then zeroes, or all zeroes on error (dst is ARG_PTR_TO_UNINIT_MEM). Bytes after the end of the
 * stream are ignored, as the kernel's decompressors stop at the stream's end; the program passes the
 * buffer it has, not the exact stream length.
 */
import { describeErrno, E } from '../../bpf/abi/index.ts';
import {
  type CompressionFormat,
  DECOMPRESS_ERROR,
  DecompressError,
  type DecompressErrorCode,
  decompressInto,
  decompressSync,
} from '../../formats/decompress/index.ts';
import type { HelperFn } from '../vm/index.ts';
import { argU32, ret } from './args.ts';
import { HelperError } from './errors.ts';
import type { KernelLogSink } from './kernel-log.ts';

/** The helper's errno for each decompressor failure. */
export const DECOMPRESS_ERRNO: Readonly<Record<DecompressErrorCode, number | undefined>> = {
  [DECOMPRESS_ERROR.UNKNOWN_FORMAT]: E.ENOEXEC,
  [DECOMPRESS_ERROR.UNSUPPORTED]: E.EBADMSG,
  [DECOMPRESS_ERROR.TRUNCATED]: E.EBADMSG,
  [DECOMPRESS_ERROR.CORRUPT]: E.EBADMSG,
  [DECOMPRESS_ERROR.TRAILING_DATA]: E.EBADMSG,
  [DECOMPRESS_ERROR.BAD_SIZE_TRAILER]: E.EBADMSG,
  [DECOMPRESS_ERROR.OUTPUT_LIMIT]: E.ENOSPC,
  // a host set-up problem, not the program's: raised, not returned
  [DECOMPRESS_ERROR.NOT_READY]: undefined,
};

const overlaps = (a: Uint8Array, b: Uint8Array): boolean =>
  a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.length && b.byteOffset < a.byteOffset + a.length;

/**
 * Decodes `src` into `dst` in place; when the two share memory (both are views of program memory), decodes
 * aside first so the stream is never overwritten while it is read.
 */
const decodeInto = (src: Uint8Array, dst: Uint8Array): { format: CompressionFormat; written: number } => {
  if (!overlaps(src, dst)) return decompressInto(src, dst, { trailing: 'allow' });
  const { data, format } = decompressSync(src, { maxOutput: dst.length, trailing: 'allow' });
  dst.set(data);
  return { format, written: data.length };
};

/** The decompressor's semantics over plain bytes: every byte of `dst` written; bytes produced or -errno. */
export const decompressModel =
  (log: KernelLogSink) =>
  (src: Uint8Array, dst: Uint8Array): number => {
    try {
      const { format, written } = decodeInto(src, dst);
      dst.fill(0, written);
      log.log('info', `kexec_bpf: decompressed ${src.length} bytes of ${format} into ${written}`);
      return written;
    } catch (e) {
      dst.fill(0);
      if (!(e instanceof DecompressError)) throw e;
      const errno = DECOMPRESS_ERRNO[e.code];
      if (errno === undefined)
        throw new HelperError('NOT_READY', `${e.message} (call prepareKexecHelpers() before running programs)`);
      log.log('err', `kexec_bpf: bpf_helper_decompress: ${e.message}: ${describeErrno(-errno)}`);
      return -errno;
    }
  };

export const decompressHelper = (log: KernelLogSink): HelperFn => {
  const model = decompressModel(log);
  return (env) => {
    const src = env.memory.slice(env.arg(1), argU32(env, 2));
    const dst = env.memory.slice(env.arg(3), argU32(env, 4), true);
    ret(env, model(src, dst));
  };
};
