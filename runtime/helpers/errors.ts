/**
 * Errors of the helper models that are not helper return values: host misuse (creating a map the kernel
 * would refuse, a map handle or record pointer no map owns). Inside a helper call they reach the VM as
 * HELPER_FAULT with this error as `cause`; a verified program never triggers them.
 */
import { describeErrno } from '../../bpf/abi/index.ts';

export type HelperErrorCode =
  /** map creation refused as the kernel's map_alloc_check/map_alloc would (`errno` says which) */
  | 'BAD_MAP_ATTR'
  /** R1 of a map helper is not the handle of a map of the table (the verifier's CONST_PTR_TO_MAP) */
  | 'NOT_A_MAP'
  /** the map is of another type than the helper serves */
  | 'WRONG_MAP_TYPE'
  /** submit/discard of a pointer that is not a live ring-buffer record */
  | 'NOT_A_RECORD'
  /** a map type the models do not implement (the kernel answers -EINVAL for types it lacks) */
  | 'UNSUPPORTED_MAP_TYPE'
  /** a host-side precondition (e.g. the bzip2 decoder not prepared) */
  | 'NOT_READY';

export class HelperError extends Error {
  override readonly name = 'HelperError';
  readonly code: HelperErrorCode;
  /** Negative errno the kernel returns for the same condition, where there is one. */
  readonly errno: number | undefined;
  constructor(code: HelperErrorCode, message: string, errno?: number) {
    super(errno === undefined ? message : `${message}: ${describeErrno(errno)}`);
    this.code = code;
    this.errno = errno;
  }
}
