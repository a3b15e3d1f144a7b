/**
 * The bpf(2) commands the project uses against the real kernel: load a program (with its verifier
 * log), create/update/look up maps, run a program with BPF_PROG_TEST_RUN. Root only; callers (tests,
 * benchmarks) check `missingBpf()` first and skip by name otherwise.
 */
import { encode, type Insn } from '../../bpf/isa/index.ts';
import { addressOf, BpfError, bpf } from './syscall.ts';
import { AttachType, AttrSize, MapCreateAttr, MapElemAttr, OBJ_NAME_LEN, ProgLoadAttr, TestRunAttr } from './uapi.ts';

const cString = (s: string): Buffer => Buffer.from(`${s}\0`, 'utf8');
const putName = (attr: Buffer, at: number, name: string | undefined): void => {
  if (name !== undefined) Buffer.from(name.slice(0, OBJ_NAME_LEN - 1), 'utf8').copy(attr, at);
};

export interface ProgLoadOptions {
  readonly progType: number;
  /** Instructions, or their little-endian wire bytes. */
  readonly insns: readonly Insn[] | Uint8Array;
  readonly license?: string;
  /** 0 (log only on failure, the log then holds the error), 1, 2, 4 (stats), or a sum. */
  readonly logLevel?: number;
  readonly logSize?: number;
  readonly name?: string;
  readonly expectedAttachType?: number;
  readonly progFlags?: number;
}

export interface LoadedProg {
  readonly fd: number;
  /** The verifier log (empty at log level 0 on success). */
  readonly log: string;
}

/** BPF_PROG_LOAD. On rejection throws BpfError whose `log` holds the verifier log. */
export const progLoad = (o: ProgLoadOptions): LoadedProg => {
  const code = Buffer.from(o.insns instanceof Uint8Array ? o.insns : encode(o.insns));
  const license = cString(o.license ?? 'GPL');
  const logSize = o.logSize ?? 1 << 20;
  // A buffer for the log even at level 0: on failure the kernel retries nothing, so ask for it once.
  const logLevel = o.logLevel ?? 0;
  const logBuf = Buffer.alloc(logLevel > 0 ? logSize : 0);
  const attr = Buffer.alloc(AttrSize.PROG_LOAD);
  attr.writeUInt32LE(o.progType, ProgLoadAttr.prog_type);
  attr.writeUInt32LE(code.length / 8, ProgLoadAttr.insn_cnt);
  attr.writeBigUInt64LE(addressOf(code), ProgLoadAttr.insns);
  attr.writeBigUInt64LE(addressOf(license), ProgLoadAttr.license);
  if (logLevel > 0) {
    attr.writeUInt32LE(logLevel, ProgLoadAttr.log_level);
    attr.writeUInt32LE(logSize, ProgLoadAttr.log_size);
    attr.writeBigUInt64LE(addressOf(logBuf), ProgLoadAttr.log_buf);
  }
  attr.writeUInt32LE(o.progFlags ?? 0, ProgLoadAttr.prog_flags);
  putName(attr, ProgLoadAttr.prog_name, o.name);
  attr.writeUInt32LE(o.expectedAttachType ?? AttachType.NONE, ProgLoadAttr.expected_attach_type);
  const readLog = (): string => {
    const end = logBuf.indexOf(0);
    return logBuf.subarray(0, end < 0 ? logBuf.length : end).toString('utf8');
  };
  const fd = bpf('PROG_LOAD', attr, o.name ?? '', readLog);
  // Keep the buffers alive until the syscall returned (they are referenced by address only).
  void code;
  void license;
  return { fd, log: readLog() };
};

/**
 * Loads a program, retrying with a verbose log when the first attempt fails without one, so the
 * error always carries the verifier's explanation.
 */
export const progLoadWithLog = (o: ProgLoadOptions): LoadedProg => {
  try {
    return progLoad(o);
  } catch (e) {
    if (!(e instanceof BpfError) || e.log !== '' || (o.logLevel ?? 0) > 0) throw e;
    return progLoad({ ...o, logLevel: 1 });
  }
};

export interface MapCreateOptions {
  readonly mapType: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags?: number;
  readonly name?: string;
}

export const mapCreate = (o: MapCreateOptions): number => {
  const attr = Buffer.alloc(AttrSize.MAP_CREATE);
  attr.writeUInt32LE(o.mapType, MapCreateAttr.map_type);
  attr.writeUInt32LE(o.keySize, MapCreateAttr.key_size);
  attr.writeUInt32LE(o.valueSize, MapCreateAttr.value_size);
  attr.writeUInt32LE(o.maxEntries, MapCreateAttr.max_entries);
  attr.writeUInt32LE(o.flags ?? 0, MapCreateAttr.map_flags);
  putName(attr, MapCreateAttr.map_name, o.name);
  return bpf('MAP_CREATE', attr, o.name ?? '');
};

const elemAttr = (fd: number, key: Buffer, value: Buffer, flags: number): Buffer => {
  const attr = Buffer.alloc(AttrSize.MAP_ELEM);
  attr.writeUInt32LE(fd, MapElemAttr.map_fd);
  attr.writeBigUInt64LE(addressOf(key), MapElemAttr.key);
  attr.writeBigUInt64LE(addressOf(value), MapElemAttr.value);
  attr.writeBigUInt64LE(BigInt(flags), MapElemAttr.flags);
  return attr;
};

export const mapUpdate = (fd: number, key: Uint8Array, value: Uint8Array, flags = 0): void => {
  const k = Buffer.from(key);
  const v = Buffer.from(value);
  bpf('MAP_UPDATE_ELEM', elemAttr(fd, k, v, flags), `map fd ${fd}`);
};

export const mapLookup = (fd: number, key: Uint8Array, valueSize: number): Uint8Array => {
  const k = Buffer.from(key);
  const v = Buffer.alloc(valueSize);
  bpf('MAP_LOOKUP_ELEM', elemAttr(fd, k, v, 0), `map fd ${fd}`);
  return new Uint8Array(v);
};

export interface TestRunOptions {
  readonly dataIn?: Uint8Array;
  /** Room for data_out (default: the size of dataIn when given). */
  readonly dataSizeOut?: number;
  readonly ctxIn?: Uint8Array;
  readonly ctxSizeOut?: number;
  readonly repeat?: number;
  readonly flags?: number;
}

export interface TestRunResult {
  /** The program's return value as the kernel reports it (u32). */
  readonly retval: number;
  /** Average ns per run over `repeat` runs. */
  readonly duration: number;
  readonly dataOut: Uint8Array | undefined;
  readonly ctxOut: Uint8Array | undefined;
}

/** BPF_PROG_TEST_RUN. */
export const progTestRun = (fd: number, o: TestRunOptions = {}): TestRunResult => {
  const attr = Buffer.alloc(AttrSize.PROG_TEST_RUN);
  attr.writeUInt32LE(fd, TestRunAttr.prog_fd);
  const dataIn = o.dataIn ? Buffer.from(o.dataIn) : undefined;
  const dataOut = dataIn || o.dataSizeOut ? Buffer.alloc(o.dataSizeOut ?? dataIn?.length ?? 0) : undefined;
  const ctxIn = o.ctxIn ? Buffer.from(o.ctxIn) : undefined;
  const ctxOut = o.ctxSizeOut ? Buffer.alloc(o.ctxSizeOut) : undefined;
  if (dataIn) {
    attr.writeUInt32LE(dataIn.length, TestRunAttr.data_size_in);
    attr.writeBigUInt64LE(addressOf(dataIn), TestRunAttr.data_in);
  }
  if (dataOut && dataOut.length > 0) {
    attr.writeUInt32LE(dataOut.length, TestRunAttr.data_size_out);
    attr.writeBigUInt64LE(addressOf(dataOut), TestRunAttr.data_out);
  }
  if (ctxIn) {
    attr.writeUInt32LE(ctxIn.length, TestRunAttr.ctx_size_in);
    attr.writeBigUInt64LE(addressOf(ctxIn), TestRunAttr.ctx_in);
  }
  if (ctxOut) {
    attr.writeUInt32LE(ctxOut.length, TestRunAttr.ctx_size_out);
    attr.writeBigUInt64LE(addressOf(ctxOut), TestRunAttr.ctx_out);
  }
  attr.writeUInt32LE(o.repeat ?? 1, TestRunAttr.repeat);
  attr.writeUInt32LE(o.flags ?? 0, TestRunAttr.flags);
  bpf('PROG_TEST_RUN', attr, `prog fd ${fd}`);
  return {
    retval: attr.readUInt32LE(TestRunAttr.retval),
    duration: attr.readUInt32LE(TestRunAttr.duration),
    dataOut: dataOut ? new Uint8Array(dataOut.subarray(0, attr.readUInt32LE(TestRunAttr.data_size_out))) : undefined,
    ctxOut: ctxOut ? new Uint8Array(ctxOut.subarray(0, attr.readUInt32LE(TestRunAttr.ctx_size_out))) : undefined,
  };
};
