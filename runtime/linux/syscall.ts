/**
 * The raw bpf(2) entry through koffi (a real FFI; no native build). koffi and libc are loaded on first
 * use, so importing this module costs nothing on machines without them. Errors become BpfError with
 * the errno's name (from Node's table of this host's errno values).
 */
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { BpfCmd, type BpfCmdName, SYS_BPF } from './uapi.ts';

export class BpfError extends Error {
  override readonly name = 'BpfError';
  readonly command: BpfCmdName | 'close' | 'ffi';
  readonly errno: number;
  /** EPERM, EINVAL, ... ('' when errno is 0). */
  readonly errnoName: string;
  /** The verifier log, for PROG_LOAD. */
  readonly log: string;
  constructor(command: BpfError['command'], errno: number, detail = '', log = '') {
    const name = errnoName(errno);
    const why = verifierSummary(log);
    super(
      `bpf ${command}: ${detail ? `${detail}: ` : ''}${name || 'failed'}${errno ? ` (errno ${errno})` : ''}${why ? `: ${why}` : ''}`,
    );
    this.command = command;
    this.errno = errno;
    this.errnoName = name;
    this.log = log;
  }
}

/** The verifier's own message: the last log line before its statistics. */
export const verifierSummary = (log: string): string => {
  const lines = log
    .split('\n')
    .filter((l) => l.trim() !== '' && !/^(processed \d+ insns|verification time|stack depth)/.test(l));
  return lines[lines.length - 1]?.trim() ?? '';
};

const ERRNO_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(constants.errno).map(([name, value]) => [value as number, name]),
);
export const errnoName = (errno: number): string => ERRNO_NAMES.get(errno) ?? (errno ? `errno ${errno}` : '');

interface Koffi {
  load(path: string): { func(decl: string): (...args: unknown[]) => number };
  errno(): number;
  address(buf: Buffer): bigint;
}
interface Ffi {
  readonly koffi: Koffi;
  readonly syscall: (...args: unknown[]) => number;
  readonly close: (...args: unknown[]) => number;
}
let ffi: Ffi | undefined;
const load = (): Ffi => {
  if (ffi) return ffi;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as Koffi;
    const libc = koffi.load('libc.so.6');
    ffi = { koffi, syscall: libc.func('long syscall(long nr, ...)'), close: libc.func('int close(int fd)') };
    return ffi;
  } catch (e) {
    throw new BpfError('ffi', 0, `cannot load koffi/libc: ${e instanceof Error ? e.message : String(e)}`);
  }
};

/** Address of a buffer's first byte (for pointer fields of bpf_attr). Keep the buffer referenced. */
export const addressOf = (buf: Buffer): bigint => load().koffi.address(buf);

/** bpf(cmd, attr, size); returns the non-negative result or throws BpfError. */
export const bpf = (command: BpfCmdName, attr: Buffer, detail = '', log?: () => string): number => {
  const f = load();
  const r = Number(f.syscall(SYS_BPF, 'int', BpfCmd[command], 'void *', attr, 'uint', attr.length));
  if (r < 0) {
    const errno = f.koffi.errno();
    throw new BpfError(command, errno, detail, log?.() ?? '');
  }
  return r;
};

export const closeFd = (fd: number): void => {
  if (load().close(fd) < 0) throw new BpfError('close', load().koffi.errno(), `fd ${fd}`);
};
