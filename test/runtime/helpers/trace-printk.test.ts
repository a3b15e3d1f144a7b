import { describe, expect, it } from 'vitest';
import { E } from '../../../bpf/abi/index.ts';
import { dmesgTime, formatTracePrintk, KernelLog, kexecHelpers } from '../../../runtime/helpers/index.ts';
import { Memory } from '../../../runtime/vm/index.ts';
import { concat, cstr, runAsm, signed } from './support.ts';

const fmt = (f: string, ...args: bigint[]) => formatTracePrintk(new Memory(), f, args);

describe('bpf_trace_printk (6)', () => {
  it('formats integers as the kernel: 32-bit without l, 64-bit with l/ll, flags and width', () => {
    expect(fmt('%d %u %x', 0xffffffffn, 0xffffffffn, 0x1_0000_00abn)).toBe('-1 4294967295 ab');
    expect(fmt('%ld %llu %lX', 2n ** 64n - 1n, 2n ** 64n - 1n, 0xabcn)).toBe('-1 18446744073709551615 ABC');
    expect(fmt('[%5d|%-4x|%05d]', 42n, 10n, 2n ** 64n - 7n)).toBe('[   42|a   |-0007]');
    expect(fmt('%+d|% d', 3n, 4n)).toBe('+3| 4');
    expect(fmt('100%% %c', 0x41n)).toBe('100% A');
    expect(fmt('%px', 0xffff8000_00000010n)).toBe('0xffff800000000010');
    expect(fmt('%1500d', 1n)).toHaveLength(1500);
  });

  it('refuses what bpf_bprintf_prepare refuses', () => {
    expect(fmt('%d %d %d %d', 1n, 2n, 3n, 4n)).toBe(-E.EINVAL);
    expect(fmt('%q', 1n)).toBe(-E.EINVAL);
    expect(fmt('%.3d', 1n)).toBe(-E.EINVAL);
    expect(fmt('%pI4', 1n)).toBe(-E.EINVAL);
    expect(fmt('bell\u0007', 1n)).toBe(-E.EINVAL);
  });

  it('writes to the trace pipe and returns the length; fmt must be terminated within fmt_size', () => {
    const log = new KernelLog(() => 0n);
    const helpers = kexecHelpers({ log });
    const mem = concat(cstr('depth %d: %s', 16), cstr('zboot', 16));
    const prog = (size: number) => `
      mov %r4, %r1
      add %r4, 16
      mov %r2, ${size}
      mov %r3, 1
      call 6
      exit`;
    expect(signed(runAsm(prog(16), { helpers, mem }).r0)).toBe('depth 1: zboot'.length);
    expect(log.traces).toEqual(['depth 1: zboot']);
    expect(signed(runAsm(prog(12), { helpers, mem }).r0)).toBe(-E.EINVAL);
    expect(signed(runAsm(prog(0), { helpers, mem }).r0)).toBe(-E.EINVAL);
    expect(log.lines()).toEqual([]);
  });
});

describe('bpf_trace_printk output length', () => {
  it('returns the full length and puts at most 1023 bytes on the trace pipe', () => {
    const log = new KernelLog(() => 0n);
    const prog = 'mov %r2, 8\nmov %r3, 7\ncall 6\nexit';
    expect(signed(runAsm(prog, { helpers: kexecHelpers({ log }), mem: cstr('%1500d', 8) }).r0)).toBe(1500);
    expect(log.traces[0]).toHaveLength(1023);
    expect(log.traces[0]!.endsWith(' ')).toBe(true);
  });
});

describe('bpf_ktime_get_ns (5) and the kernel log', () => {
  it('returns the clock it is given', () => {
    let t = 5n;
    const helpers = kexecHelpers({ clock: () => (t += 10n) });
    expect(runAsm('call 5\nmov %r6, %r0\ncall 5\nsub %r0, %r6\nexit', { helpers }).r0).toBe(10n);
  });

  it('bpf_get_prandom_u32 (7) returns the generator it is given, as a u32', () => {
    const helpers = kexecHelpers({ random: () => -1 });
    expect(runAsm('call 7\nexit', { helpers }).r0).toBe(0xffffffffn);
  });

  it('prints dmesg timestamps', () => {
    expect(dmesgTime(0n)).toBe('[    0.000000]');
    expect(dmesgTime(1_234_567_890_123n)).toBe('[ 1234.567890]');
    const log = new KernelLog(() => 2_000_001_000n);
    log.log('err', 'kexec_file: x');
    expect(log.lines()).toEqual(['[    2.000001] kexec_file: x']);
    expect(log.entries[0]!.level).toBe('err');
  });
});
