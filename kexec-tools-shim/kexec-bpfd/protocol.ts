/**
 * kexec-bpfd's wire protocol: one JSON object per line each way. Requests:
 *   {"id": any, "op": "load", "kernel": "/abs/path", "initrd"?: "/abs", "cmdline"?: "…", "panic"?: bool, "addons"?: ["/abs", …]}
 *   {"id": any, "op": "unload", "panic"?: bool}
 *   {"id": any, "op": "status"}
 * Every request gets exactly one answer with the same id: {"id", "ok": bool, …} — on failure with
 * "errno" (positive), "error" (strerror text or a protocol message) and "exitCode" (kexec-bpf's codes).
 */
import { isAbsolute } from 'node:path';

export type Request =
  | {
      readonly id?: unknown;
      readonly op: 'load';
      readonly kernel: string;
      readonly initrd?: string;
      readonly cmdline?: string;
      readonly panic?: boolean;
      readonly addons?: readonly string[];
    }
  | { readonly id?: unknown; readonly op: 'unload'; readonly panic?: boolean }
  | { readonly id?: unknown; readonly op: 'status' };

/** The longest request line accepted (a longer one ends the connection). */
export const MAX_LINE = 64 * 1024;

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly id: unknown;
  constructor(message: string, id: unknown) {
    super(message);
    this.id = id;
  }
}

const absPath = (v: unknown, what: string, id: unknown): string => {
  if (typeof v !== 'string' || v === '') throw new ProtocolError(`${what}: a path is required`, id);
  if (!isAbsolute(v)) throw new ProtocolError(`${what}: must be an absolute path (the daemon has its own cwd)`, id);
  return v;
};

/** Parses and checks one request line. */
export const parseRequest = (line: string): Request => {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new ProtocolError('not a JSON object', null);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ProtocolError('not a JSON object', null);
  const o = v as Record<string, unknown>;
  const id = o.id ?? null;
  const panic = o.panic === undefined ? undefined : o.panic === true;
  if (o.panic !== undefined && typeof o.panic !== 'boolean') throw new ProtocolError('panic: must be a boolean', id);
  switch (o.op) {
    case 'status':
      return { id, op: 'status' };
    case 'unload':
      return { id, op: 'unload', ...(panic !== undefined ? { panic } : {}) };
    case 'load': {
      if (o.cmdline !== undefined && typeof o.cmdline !== 'string')
        throw new ProtocolError('cmdline: must be a string', id);
      if (o.addons !== undefined && !Array.isArray(o.addons))
        throw new ProtocolError('addons: must be an array of paths', id);
      return {
        id,
        op: 'load',
        kernel: absPath(o.kernel, 'kernel', id),
        ...(o.initrd !== undefined ? { initrd: absPath(o.initrd, 'initrd', id) } : {}),
        ...(typeof o.cmdline === 'string' ? { cmdline: o.cmdline } : {}),
        ...(panic !== undefined ? { panic } : {}),
        addons: ((o.addons as unknown[] | undefined) ?? []).map((a, i) => absPath(a, `addons[${i}]`, id)),
      };
    }
    default:
      throw new ProtocolError(`op: expected "load", "unload" or "status"`, id);
  }
};
