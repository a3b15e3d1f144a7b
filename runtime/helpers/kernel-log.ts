/**
 * A kernel log sink: what the helpers report lands here as dmesg would show it, `[seconds.micros] text`,
 * with the kernel's log levels. trace_printk output goes to the trace pipe, a separate channel.
 */

export const LOG_LEVELS = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface KernelLogEntry {
  /** Nanoseconds since boot (the log's clock). */
  readonly ns: bigint;
  readonly level: LogLevel;
  readonly text: string;
}

export interface KernelLogSink {
  /** printk at `level`. */
  log(level: LogLevel, text: string): void;
  /** A line written by bpf_trace_printk (the trace pipe). */
  trace(text: string): void;
}

/** dmesg's timestamp: seconds, 6 decimals, right-aligned in 12 columns. */
export const dmesgTime = (ns: bigint): string => {
  const us = ns / 1000n;
  const s = `${us / 1_000_000n}.${(us % 1_000_000n).toString().padStart(6, '0')}`;
  return `[${s.padStart(12, ' ')}]`;
};

/** An in-memory log. `clock` gives nanoseconds since boot (default: since the log was made). */
export class KernelLog implements KernelLogSink {
  readonly entries: KernelLogEntry[] = [];
  readonly traces: string[] = [];
  readonly #clock: () => bigint;

  constructor(clock?: () => bigint) {
    const start = process.hrtime.bigint();
    this.#clock = clock ?? (() => process.hrtime.bigint() - start);
  }

  log(level: LogLevel, text: string): void {
    this.entries.push({ ns: this.#clock(), level, text });
  }

  trace(text: string): void {
    this.traces.push(text);
  }

  /** The log as `dmesg` prints it. */
  lines(): string[] {
    return this.entries.map((e) => `${dmesgTime(e.ns)} ${e.text}`);
  }
}

/** A sink that drops everything. */
export const NULL_LOG: KernelLogSink = { log: () => {}, trace: () => {} };
