import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP, BPF_RB_QUERY, E } from '../../../bpf/abi/index.ts';
import { HelperError, kexecHelpers, MapTable, RINGBUF_MAX_RECORD_SZ, RingBuf } from '../../../runtime/helpers/index.ts';
import { Memory } from '../../../runtime/vm/index.ts';
import { runAsm, signed, vmFailure } from './support.ts';

const attrErrno = (f: () => unknown): number | undefined => {
  try {
    f();
  } catch (e) {
    if (e instanceof HelperError) return e.errno;
    throw e;
  }
  return undefined;
};

describe('ring buffer (kernel/bpf/ringbuf.c)', () => {
  it('needs a power-of-two, page-multiple size and no key/value', () => {
    for (const bad of [0, 1024, 4096 * 3, 12288, 4097])
      expect(attrErrno(() => new RingBuf({ maxEntries: bad }))).toBe(-E.EINVAL);
    expect(attrErrno(() => new RingBuf({ maxEntries: 4096, keySize: 4 }))).toBe(-E.EINVAL);
    expect(attrErrno(() => new RingBuf({ maxEntries: 4096, mapFlags: 1 }))).toBe(-E.EINVAL);
    expect(new RingBuf({ maxEntries: 8192 }).mask).toBe(8191);
  });

  it('frames records with an 8-byte header and rounds them to 8 bytes', () => {
    const memory = new Memory();
    const rb = new RingBuf({ maxEntries: 4096 });
    const a = rb.reserve(memory, 5);
    expect(rb.producerPos).toBe(16);
    const view = new DataView(rb.data.buffer);
    expect(view.getUint32(0, true)).toBe((5 | 0x80000000) >>> 0);
    expect(view.getUint32(4, true)).toBe(3);
    memory.slice(a, 5, true).set([1, 2, 3, 4, 5]);
    rb.commit(memory, a, 0n, false);
    expect(view.getUint32(0, true)).toBe(5);
    expect(rb.drain()).toEqual([{ pos: 0, data: Uint8Array.of(1, 2, 3, 4, 5) }]);
    expect(rb.consumerPos).toBe(16);
    // a committed record's memory is taken away from the program
    expect(() => memory.slice(a, 1, true)).toThrow(/out of bounds/);
  });

  it('refuses sizes over the limit and records that do not fit (NULL)', () => {
    const memory = new Memory();
    const rb = new RingBuf({ maxEntries: 4096 });
    expect(rb.reserve(memory, RINGBUF_MAX_RECORD_SZ + 1)).toBe(0n);
    expect(rb.reserve(memory, 4096 - 8 + 1)).toBe(0n);
    // a record of the whole ring cannot be taken: the producer may not get mask bytes ahead
    expect(rb.reserve(memory, 4096 - 8)).toBe(0n);
    const big = rb.reserve(memory, 4096 - 16);
    expect(big).not.toBe(0n);
    expect(rb.reserve(memory, 0)).toBe(0n);
    rb.commit(memory, big, 0n, true);
    // discarded but not consumed: still no room
    expect(rb.reserve(memory, 0)).toBe(0n);
    expect(rb.drain()).toEqual([]);
    expect(rb.reserve(memory, 0)).not.toBe(0n);
  });

  it('shows records in reservation order, stops at a busy one and skips discarded ones', () => {
    const memory = new Memory();
    const rb = new RingBuf({ maxEntries: 4096 });
    const [a, b, c] = [rb.reserve(memory, 1), rb.reserve(memory, 1), rb.reserve(memory, 1)] as bigint[];
    for (const [p, v] of [
      [a, 1],
      [b, 2],
      [c, 3],
    ] as const)
      memory.slice(p!, 1, true)[0] = v;
    rb.commit(memory, c!, 0n, false);
    rb.commit(memory, b!, 0n, true);
    expect(rb.drain()).toEqual([]);
    rb.commit(memory, a!, 0n, false);
    expect(rb.drain().map((r) => r.data[0])).toEqual([1, 3]);
    expect(() => rb.commit(memory, a!, 0n, false)).toThrow(HelperError);
  });

  it('counts the wakeups the kernel would queue', () => {
    const memory = new Memory();
    const rb = new RingBuf({ maxEntries: 4096 });
    rb.commit(memory, rb.reserve(memory, 8), 0n, false);
    rb.commit(memory, rb.reserve(memory, 8), 0n, false); // consumer not at this record
    rb.commit(memory, rb.reserve(memory, 8), BigInt(BPF_RB_FORCE_WAKEUP), false);
    rb.drain();
    rb.commit(memory, rb.reserve(memory, 8), BigInt(BPF_RB_NO_WAKEUP), false);
    expect(rb.wakeups).toEqual({ commit: 1, forced: 1 });
  });

  it('keeps every record intact across wrap-around under any workload (property)', () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('reserve' as const), size: fc.nat(1500) }),
      fc.record({ kind: fc.constant('commit' as const), which: fc.nat(10), discard: fc.boolean() }),
      fc.record({ kind: fc.constant('drain' as const) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const memory = new Memory();
        const rb = new RingBuf({ maxEntries: 4096 });
        let n = 0;
        const live: { at: bigint; data: Uint8Array; seq: number }[] = [];
        const order: { seq: number; data: Uint8Array; state: 'busy' | 'done' | 'gone' }[] = [];
        let next = 0;
        for (const s of steps) {
          if (s.kind === 'reserve') {
            const at = rb.reserve(memory, s.size);
            if (at === 0n) continue;
            const data = Uint8Array.from({ length: s.size }, (_, i) => (n * 31 + i) & 255);
            memory.slice(at, s.size, true).set(data);
            live.push({ at, data, seq: n });
            order.push({ seq: n, data, state: 'busy' });
            n++;
          } else if (s.kind === 'commit' && live.length > 0) {
            const [r] = live.splice(s.which % live.length, 1);
            rb.commit(memory, r!.at, 0n, s.discard);
            order[r!.seq]!.state = s.discard ? 'gone' : 'done';
          } else if (s.kind === 'drain') {
            const expected: Uint8Array[] = [];
            while (next < order.length && order[next]!.state !== 'busy') {
              if (order[next]!.state === 'done') expected.push(order[next]!.data);
              next++;
            }
            expect(rb.drain().map((r) => r.data)).toEqual(expected);
          }
          expect(rb.producerPos - rb.consumerPos).toBeLessThanOrEqual(rb.mask);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('ring buffer helpers 130-134 through the interpreter', () => {
  const setup = () => {
    const rb = new RingBuf({ name: 'kexec_result', maxEntries: 4096 });
    const maps = new MapTable().add(rb);
    return { rb, maps, helpers: kexecHelpers({ maps }) };
  };

  it('reserve → write → submit: the host drains the record', () => {
    const { rb, maps, helpers } = setup();
    const prog = `
      lddw_map_fd %r1, 0
      mov %r2, 16
      mov %r3, 0
      call 131
      jeq %r0, 0, fail
      stdw [%r0], 0x11223344
      stdw [%r0+8], -1
      mov %r1, %r0
      mov %r2, 0
      call 132
      mov %r0, 0
      exit
    fail:
      mov %r0, 1
      exit`;
    expect(runAsm(prog, { helpers, maps }).r0).toBe(0n);
    const [rec] = rb.drain();
    expect(Buffer.from(rec!.data).toString('hex')).toBe('4433221100000000ffffffffffffffff');
  });

  it('reserve with flags or too large a size gives NULL; discard leaves nothing to drain', () => {
    const { rb, maps, helpers } = setup();
    const reserve = (size: number, flags: number) =>
      runAsm(`lddw_map_fd %r1, 0\nmov %r2, ${size}\nmov %r3, ${flags}\ncall 131\nexit`, { helpers, maps }).r0;
    expect(reserve(8, 1)).toBe(0n);
    expect(reserve(4096, 0)).toBe(0n);
    const discard = `
      lddw_map_fd %r1, 0
      mov %r2, 8
      mov %r3, 0
      call 131
      jeq %r0, 0, out
      mov %r1, %r0
      mov %r2, 0
      call 133
    out:
      exit`;
    runAsm(discard, { helpers, maps });
    expect(rb.producerPos).toBe(16);
    expect(rb.drain()).toEqual([]);
    expect(rb.consumerPos).toBe(16);
  });

  it('output copies a buffer (-EINVAL for unknown flags, -EAGAIN when full); query reports positions', () => {
    const { rb, maps, helpers } = setup();
    const output = (size: number, flags: number) =>
      signed(
        runAsm(
          `stdw [%r10-8], 0x61626364\nlddw_map_fd %r1, 0\nmov %r2, %r10\nadd %r2, -8\nmov %r3, ${size}\nmov %r4, ${flags}\ncall 130\nexit`,
          { helpers, maps },
        ).r0,
      );
    expect(output(4, 4)).toBe(-E.EINVAL);
    expect(output(4, BPF_RB_NO_WAKEUP)).toBe(0);
    expect(rb.drain().map((r) => Buffer.from(r.data).toString('latin1'))).toEqual(['dcba']);
    for (let i = 0; i < 255; i++) expect(output(8, 0)).toBe(0);
    expect(output(8, 0)).toBe(-E.EAGAIN);
    const query = (sel: number) => runAsm(`lddw_map_fd %r1, 0\nmov %r2, ${sel}\ncall 134\nexit`, { helpers, maps }).r0;
    expect(query(BPF_RB_QUERY.RING_SIZE)).toBe(4096n);
    expect(query(BPF_RB_QUERY.PROD_POS)).toBe(16n + 255n * 16n);
    expect(query(BPF_RB_QUERY.CONS_POS)).toBe(16n);
    expect(query(BPF_RB_QUERY.AVAIL_DATA)).toBe(255n * 16n);
    expect(query(9)).toBe(0n);
  });

  it('faults on submit of a pointer that is no record, and on use of a submitted record', () => {
    const { maps, helpers } = setup();
    const e = vmFailure(() => runAsm('mov %r1, %r10\nadd %r1, -8\nmov %r2, 0\ncall 132\nexit', { helpers, maps }));
    expect((e.cause as HelperError).code).toBe('NOT_A_RECORD');
    const afterSubmit = `
      lddw_map_fd %r1, 0
      mov %r2, 8
      mov %r3, 0
      call 131
      mov %r6, %r0
      mov %r1, %r0
      mov %r2, 0
      call 132
      stdw [%r6], 1
      exit`;
    expect(vmFailure(() => runAsm(afterSubmit, { helpers, maps })).code).toBe('BAD_ACCESS');
  });
});
