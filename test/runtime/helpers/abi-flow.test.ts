/**
 * The helpers together as docs/ABI.md §4 has a parser use them: an input record as scratch memory, the
 * kernel carried in, decompressed into a second record, carried out, the cmdline replaced, one
 * kexec_bpf_result submitted and read back by the host.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  fieldOf,
  INPUT_RINGBUF,
  KEXEC_BPF_RESULT,
  KEXEC_BPF_RESULT_F,
  KEXEC_BPF_RESULT_MAGIC,
  RESULT_RINGBUF,
} from '../../../bpf/abi/index.ts';
import {
  decodeKexecResult,
  KernelLog,
  kexecHelpers,
  MapTable,
  ResourceStore,
  ResultRecordError,
  RingBuf,
} from '../../../runtime/helpers/index.ts';
import { concat, cstr, runAsm } from './support.ts';

const off = (name: string) => fieldOf(KEXEC_BPF_RESULT, name).offset;

describe('a parser-shaped program over the RFC ABI', () => {
  it('unpacks a gzip kernel, replaces the cmdline and reports through kexec_result', () => {
    const vmlinux = Uint8Array.from({ length: 20000 }, (_, i) => (i * 13) & 255);
    const resources = new ResourceStore({ kernel: gzipSync(vmlinux), cmdline: cstr('old') });
    const input = new RingBuf({ name: INPUT_RINGBUF, maxEntries: 1 << 16 });
    const result = new RingBuf({ name: RESULT_RINGBUF, maxEntries: 4096 });
    const maps = new MapTable().add(input).add(result);
    const log = new KernelLog(() => 0n);
    const helpers = kexecHelpers({ maps, resources, log });
    // strings in the input region: "kernel" at 0, "cmdline" at 16, the new command line at 32 (16 bytes)
    const mem = concat(cstr('kernel', 16), cstr('cmdline', 16), cstr('console=ttyS0', 16));
    const prog = `
      mov %r9, %r1
      # r6 = compressed (16 KiB), r7 = decompressed (32 KiB)
      lddw_map_fd %r1, 0
      mov %r2, 16384
      mov %r3, 0
      call 131
      jeq %r0, 0, out
      mov %r6, %r0
      lddw_map_fd %r1, 0
      mov %r2, 32768
      mov %r3, 0
      call 131
      jne %r0, 0, got
      mov %r1, %r6
      mov %r2, 0
      call 133
      ja out
    got:
      mov %r7, %r0
      mov %r1, %r9
      mov %r2, %r6
      mov %r3, 16384
      mov %r4, 0
      call 212
      mov %r1, %r6
      mov %r2, 16384
      mov %r3, %r7
      mov %r4, 32768
      call 213
      mov %r8, %r0
      jsgt %r8, 0, unpacked
      ja release
    unpacked:
      mov %r1, %r9
      mov %r2, %r7
      mov %r3, %r8
      and %r3, 32767
      mov %r4, 1
      call 212
      mov %r1, %r9
      add %r1, 16
      mov %r2, %r9
      add %r2, 32
      mov %r3, 14
      mov %r4, 1
      call 212
    release:
      mov %r1, %r6
      mov %r2, 0
      call 133
      mov %r1, %r7
      mov %r2, 0
      call 133
      # the result record
      lddw_map_fd %r1, 1
      mov %r2, ${KEXEC_BPF_RESULT.size}
      mov %r3, 0
      call 131
      jeq %r0, 0, out
      stw [%r0+${off('magic')}], ${KEXEC_BPF_RESULT_MAGIC}
      sth [%r0+${off('version')}], 1
      sth [%r0+${off('flags')}], ${KEXEC_BPF_RESULT_F.KERNEL | KEXEC_BPF_RESULT_F.CMDLINE}
      stxw [%r0+${off('status')}], %r8
      stw [%r0+${off('depth')}], 0
      stw [%r0+${off('format')}], 0x70697a67
      mov %r1, %r0
      mov %r2, 0
      call 132
    out:
      mov %r0, 0
      exit`;
    expect(runAsm(prog, { helpers, maps, mem }).r0).toBe(0n);
    expect(resources.get('kernel')).toEqual(vmlinux);
    expect(Buffer.from(resources.get('cmdline')!).toString('latin1')).toBe('console=ttyS0\0');
    expect(input.drain()).toEqual([]);
    expect(input.availData).toBe(0);
    const [rec, ...more] = result.drain();
    expect(more).toEqual([]);
    const v = new DataView(rec!.data.buffer);
    expect(rec!.data.length).toBe(64);
    expect(v.getUint32(off('magic'), true)).toBe(KEXEC_BPF_RESULT_MAGIC);
    expect(v.getUint16(off('flags'), true)).toBe(5);
    expect(v.getInt32(off('status'), true)).toBe(20000);
    expect(Buffer.from(rec!.data.subarray(off('format'), off('format') + 4)).toString('latin1')).toBe('gzip');
    expect(decodeKexecResult(rec!.data)).toEqual({
      version: 1,
      flags: 5,
      flagNames: ['KERNEL', 'CMDLINE'],
      status: 20000,
      depth: 0,
      format: 'gzip',
      detail: '',
    });
    const bad = rec!.data.slice();
    bad[0] = 0;
    expect(() => decodeKexecResult(bad)).toThrow(ResultRecordError);
    expect(() => decodeKexecResult(bad)).toThrow(/magic 0x52425800 is not 0x5242584b \(at record offset 0\)/);
    expect(() => decodeKexecResult(bad.subarray(1))).toThrow(/63 bytes, expected 64/);
    expect(log.lines()).toEqual([
      `[    0.000000] kexec_bpf: decompressed 16384 bytes of gzip into 20000`,
      '[    0.000000] kexec_bpf: kernel replaced (20000 bytes)',
      '[    0.000000] kexec_bpf: cmdline replaced (14 bytes)',
    ]);
  });
});
