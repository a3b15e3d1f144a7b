/**
 * The map models against the real kernel's maps through bpf(2): the same creation attributes are
 * accepted or refused with the same errno, and the same update sequences give the same results.
 * Skipped by name without root / bpf(2).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BPF_MAP_TYPE } from '../../../bpf/abi/index.ts';
import {
  ArrayMap,
  HashMap,
  HelperError,
  type MapAttr,
  RingBuf,
  syscallUpdate,
} from '../../../runtime/helpers/index.ts';
import { BpfError, closeFd, mapCreate, mapLookup, mapUpdate } from '../../../runtime/linux/index.ts';
import { missingBpf } from '../../support/env.ts';

type Kind = 'ARRAY' | 'HASH' | 'RINGBUF';

const ours = (kind: Kind, a: MapAttr): ArrayMap | HashMap | RingBuf =>
  kind === 'ARRAY' ? new ArrayMap(a) : kind === 'HASH' ? new HashMap(a) : new RingBuf(a);

/** 0 or -errno of creating the map in our model and in the kernel. */
const createBoth = (kind: Kind, a: MapAttr): { ours: number; kernel: number; fd?: number } => {
  let o = 0;
  try {
    ours(kind, a);
  } catch (e) {
    if (!(e instanceof HelperError)) throw e;
    o = e.errno ?? 0;
  }
  try {
    const fd = mapCreate({ mapType: BPF_MAP_TYPE[kind], ...a, flags: a.mapFlags ?? 0 });
    closeFd(fd);
    return { ours: o, kernel: 0 };
  } catch (e) {
    if (!(e instanceof BpfError)) throw e;
    return { ours: o, kernel: -e.errno };
  }
};

const kernelUpdate = (fd: number, key: Uint8Array, value: Uint8Array, flags: number): number => {
  try {
    mapUpdate(fd, key, value, flags);
    return 0;
  } catch (e) {
    if (!(e instanceof BpfError)) throw e;
    return -e.errno;
  }
};

const kernelLookup = (fd: number, key: Uint8Array, size: number): Uint8Array | undefined => {
  try {
    return mapLookup(fd, key, size);
  } catch (e) {
    if (e instanceof BpfError && e.errnoName === 'ENOENT') return undefined;
    throw e;
  }
};

const u32 = (n: number): Uint8Array => Uint8Array.of(n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24);

describe('map models vs the kernel (bpf(2))', () => {
  it('accept and refuse the same creation attributes with the same errno', (ctx) => {
    const why = missingBpf();
    if (why) ctx.skip(why);
    const cases: [Kind, MapAttr][] = [
      ['ARRAY', { keySize: 4, valueSize: 8, maxEntries: 4 }],
      ['ARRAY', { keySize: 8, valueSize: 8, maxEntries: 4 }],
      ['ARRAY', { keySize: 4, valueSize: 0, maxEntries: 4 }],
      ['ARRAY', { keySize: 4, valueSize: 8, maxEntries: 0 }],
      ['ARRAY', { keySize: 4, valueSize: 256, maxEntries: 16, mapFlags: 1 << 7 }],
      ['HASH', { keySize: 4, valueSize: 8, maxEntries: 4 }],
      ['HASH', { keySize: 0, valueSize: 8, maxEntries: 4 }],
      ['HASH', { keySize: 512, valueSize: 8, maxEntries: 4 }],
      ['HASH', { keySize: 513, valueSize: 8, maxEntries: 4 }],
      ['HASH', { keySize: 8, valueSize: (4 << 20) - 48 - 9, maxEntries: 1 }],
      ['HASH', { keySize: 8, valueSize: (4 << 20) - 48 - 8, maxEntries: 1 }],
      ['ARRAY', { keySize: 4, valueSize: (4 << 20) + 8, maxEntries: 1 }],
      ['HASH', { keySize: 4, valueSize: 0, maxEntries: 4 }],
      ['HASH', { keySize: 4, valueSize: 8, maxEntries: 0 }],
      ['RINGBUF', { keySize: 0, valueSize: 0, maxEntries: 4096 }],
      ['RINGBUF', { keySize: 0, valueSize: 0, maxEntries: 1 << 16 }],
      ['RINGBUF', { keySize: 0, valueSize: 0, maxEntries: 4096 * 3 }],
      ['RINGBUF', { keySize: 0, valueSize: 0, maxEntries: 2048 }],
      ['RINGBUF', { keySize: 4, valueSize: 0, maxEntries: 4096 }],
      ['RINGBUF', { keySize: 0, valueSize: 0, maxEntries: 4096, mapFlags: 1 }],
    ];
    for (const [kind, a] of cases) {
      const r = createBoth(kind, a);
      expect([kind, a, r.ours]).toEqual([kind, a, r.kernel]);
    }
  });

  for (const kind of ['HASH', 'ARRAY'] as const) {
    it(`gives the kernel's results for any sequence of ${kind.toLowerCase()} updates (property)`, (ctx) => {
      const why = missingBpf();
      if (why) ctx.skip(why);
      const attr = { keySize: 4, valueSize: 8, maxEntries: 3 };
      const op = fc.record({ key: fc.nat(4), value: fc.nat(1000), flags: fc.nat(6) });
      fc.assert(
        fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
          const model = ours(kind, attr) as ArrayMap | HashMap;
          const fd = mapCreate({ mapType: BPF_MAP_TYPE[kind], ...attr });
          try {
            for (const o of ops) {
              const value = new Uint8Array(new BigUint64Array([BigInt(o.value)]).buffer);
              const k = kernelUpdate(fd, u32(o.key), value, o.flags);
              expect([o, syscallUpdate(model, u32(o.key), value, o.flags)]).toEqual([o, k]);
            }
            for (let key = 0; key <= 4; key++)
              expect(model.lookup(u32(key))).toEqual(kernelLookup(fd, u32(key), attr.valueSize));
          } finally {
            closeFd(fd);
          }
        }),
        { numRuns: 40 },
      );
    });
  }
});
