import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { E } from '../../../bpf/abi/index.ts';
import {
  ArrayMap,
  BPF_ANY,
  BPF_EXIST,
  BPF_F_LOCK,
  BPF_F_RDONLY_PROG,
  BPF_NOEXIST,
  createMap,
  HashMap,
  HelperError,
  kexecHelpers,
  MapTable,
  RingBuf,
} from '../../../runtime/helpers/index.ts';
import { Memory } from '../../../runtime/vm/index.ts';
import { runAsm, signed, vmFailure } from './support.ts';

const u32 = (n: number): Uint8Array => Uint8Array.of(n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24);
const u64 = (n: number): Uint8Array => new Uint8Array(new BigUint64Array([BigInt(n)]).buffer);
const attrError = (f: () => unknown): number | undefined => {
  try {
    f();
  } catch (e) {
    if (e instanceof HelperError) return e.errno;
    throw e;
  }
  return undefined;
};

describe('array map (kernel/bpf/arraymap.c)', () => {
  it('refuses the attributes the kernel refuses', () => {
    expect(attrError(() => new ArrayMap({ keySize: 8, valueSize: 8, maxEntries: 4 }))).toBe(-E.EINVAL);
    expect(attrError(() => new ArrayMap({ keySize: 4, valueSize: 0, maxEntries: 4 }))).toBe(-E.EINVAL);
    expect(attrError(() => new ArrayMap({ keySize: 4, valueSize: 8, maxEntries: 0 }))).toBe(-E.EINVAL);
    expect(attrError(() => new ArrayMap({ keySize: 4, valueSize: 2 ** 31, maxEntries: 1 }))).toBe(-E.E2BIG);
  });

  it('has every element, refuses NOEXIST, bad flags, indexes past the end and deletes', () => {
    const m = new ArrayMap({ keySize: 4, valueSize: 5, maxEntries: 2 });
    expect(m.lookup(u32(1))).toEqual(new Uint8Array(5));
    expect(m.lookup(u32(2))).toBeUndefined();
    const v = Uint8Array.of(1, 2, 3, 4, 5);
    expect(m.update(u32(1), v, BPF_ANY)).toBe(0);
    expect(m.update(u32(1), v, BPF_EXIST)).toBe(0);
    expect(m.update(u32(1), v, BPF_NOEXIST)).toBe(-E.EEXIST);
    expect(m.update(u32(2), v, BPF_ANY)).toBe(-E.E2BIG);
    expect(m.update(u32(2), v, 3)).toBe(-E.EINVAL);
    expect(m.update(u32(0), v, BPF_F_LOCK)).toBe(-E.EINVAL);
    expect(m.delete(u32(0))).toBe(-E.EINVAL);
    expect(m.lookup(u32(1))).toEqual(v);
    expect(m.elemSize).toBe(8);
  });
});

describe('ArrayMap.untouched (values known zero without reading them)', () => {
  const fresh = () => new ArrayMap({ keySize: 4, valueSize: 64, maxEntries: 1 });
  it('holds until an update, a live view or a VM region could have written the values', () => {
    const m = fresh();
    expect(m.untouched).toBe(true);
    m.lookup(u32(0)); // a copy
    m.update(u32(1), u64(1), BPF_ANY); // refused: index past the end
    expect(m.untouched).toBe(true);
    const updated = fresh();
    updated.update(u32(0), new Uint8Array(8), BPF_ANY);
    expect(updated.untouched).toBe(false);
    const viewed = fresh();
    viewed.element(0);
    expect(viewed.untouched).toBe(false);
    const mapped = fresh();
    mapped.valueAddress(new Memory());
    expect(mapped.untouched).toBe(false);
  });
});

describe('hash map (kernel/bpf/hashtab.c, preallocated)', () => {
  it('refuses the attributes the kernel refuses', () => {
    expect(attrError(() => new HashMap({ keySize: 0, valueSize: 8, maxEntries: 4 }))).toBe(-E.EINVAL);
    expect(attrError(() => new HashMap({ keySize: 8, valueSize: (4 << 20) - 56, maxEntries: 4 }))).toBe(-E.E2BIG);
    expect(attrError(() => new HashMap({ keySize: 4, valueSize: 8, maxEntries: 0 }))).toBe(-E.EINVAL);
  });

  it('answers EEXIST, ENOENT, E2BIG and EINVAL as the kernel does', () => {
    const m = new HashMap({ keySize: 4, valueSize: 4, maxEntries: 2 });
    expect(m.update(u32(7), u32(70), BPF_EXIST)).toBe(-E.ENOENT);
    expect(m.update(u32(7), u32(70), BPF_NOEXIST)).toBe(0);
    expect(m.update(u32(7), u32(71), BPF_NOEXIST)).toBe(-E.EEXIST);
    expect(m.update(u32(7), u32(72), BPF_EXIST)).toBe(0);
    expect(m.update(u32(8), u32(80), BPF_ANY)).toBe(0);
    expect(m.update(u32(9), u32(90), BPF_ANY)).toBe(-E.E2BIG);
    // replacing an existing key still works when full (the per-CPU extra element)
    expect(m.update(u32(8), u32(81), BPF_ANY)).toBe(0);
    expect(m.update(u32(9), u32(90), 4)).toBe(-E.EINVAL);
    expect(m.update(u32(9), u32(90), 3)).toBe(-E.EINVAL);
    expect(m.delete(u32(9))).toBe(-E.ENOENT);
    expect(m.delete(u32(7))).toBe(0);
    expect(m.update(u32(9), u32(90), BPF_ANY)).toBe(0);
    expect(m.keys().map((k) => k[0])).toEqual([8, 9]);
    expect(m.lookup(u32(8))).toEqual(u32(81));
  });

  it('keeps a looked-up pointer valid: the old element, as the kernel after a replace', () => {
    const memory = new Memory();
    const m = new HashMap({ keySize: 4, valueSize: 4, maxEntries: 1 });
    m.update(u32(1), u32(10), BPF_ANY);
    const before = m.lookupAddress(memory, u32(1));
    m.update(u32(1), u32(11), BPF_ANY);
    expect(memory.slice(before, 4)).toEqual(u32(10));
    expect(memory.slice(m.lookupAddress(memory, u32(1)), 4)).toEqual(u32(11));
  });

  it('behaves as a bounded dictionary under any sequence of updates and deletes (property)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('update' as const), key: fc.nat(5), value: fc.nat(255), flags: fc.nat(5) }),
      fc.record({ kind: fc.constant('delete' as const), key: fc.nat(5) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const cap = 3;
        const m = new HashMap({ keySize: 4, valueSize: 4, maxEntries: cap });
        const ref = new Map<number, number>();
        for (const o of ops) {
          if (o.kind === 'delete') {
            expect(m.delete(u32(o.key))).toBe(ref.delete(o.key) ? 0 : -E.ENOENT);
            continue;
          }
          const has = ref.has(o.key);
          const expected =
            o.flags > BPF_EXIST
              ? -E.EINVAL
              : has && o.flags === BPF_NOEXIST
                ? -E.EEXIST
                : !has && o.flags === BPF_EXIST
                  ? -E.ENOENT
                  : !has && ref.size === cap
                    ? -E.E2BIG
                    : 0;
          expect(m.update(u32(o.key), u32(o.value), o.flags)).toBe(expected);
          if (expected === 0) ref.set(o.key, o.value);
        }
        for (let k = 0; k <= 5; k++) expect(m.lookup(u32(k))).toEqual(ref.has(k) ? u32(ref.get(k)!) : undefined);
      }),
      { numRuns: 200 },
    );
  });
});

describe('createMap (BPF_MAP_CREATE)', () => {
  it('builds the modelled types and refuses the others by name', () => {
    const a = { keySize: 4, valueSize: 4, maxEntries: 1 };
    expect(createMap(2, a)).toBeInstanceOf(ArrayMap);
    expect(createMap(1, a)).toBeInstanceOf(HashMap);
    expect(createMap(27, { keySize: 0, valueSize: 0, maxEntries: 4096 })).toBeInstanceOf(RingBuf);
    expect(() => createMap(9, a)).toThrow('BPF_MAP_TYPE_LRU_HASH is not modelled: -EINVAL (Invalid argument)');
    expect(attrError(() => createMap(99, a))).toBe(-E.EINVAL);
  });
});

describe('map helpers 1/2/3 through the interpreter', () => {
  const lookupAndWrite = `
    stw [%r10-4], 3
    lddw_map_fd %r1, 0
    mov %r2, %r10
    add %r2, -4
    call 1
    jeq %r0, 0, null
    stdw [%r0], 77
    mov %r0, 1
    exit
null:
    mov %r0, 0
    exit`;

  it('writes through the pointer bpf_map_lookup_elem returns (array)', () => {
    const maps = new MapTable().add(new ArrayMap({ keySize: 4, valueSize: 8, maxEntries: 4 }));
    const helpers = kexecHelpers({ maps });
    expect(runAsm(lookupAndWrite, { helpers, maps }).r0).toBe(1n);
    expect(maps.maps[0]!.type === 'BPF_MAP_TYPE_ARRAY' && (maps.maps[0] as ArrayMap).lookup(u32(3))).toEqual(u64(77));
    // an index past the end gives NULL
    const small = new MapTable().add(new ArrayMap({ keySize: 4, valueSize: 8, maxEntries: 3 }));
    expect(runAsm(lookupAndWrite, { helpers: kexecHelpers({ maps: small }), maps: small }).r0).toBe(0n);
  });

  it('updates, looks up and deletes a hash element from the program', () => {
    const hash = new HashMap({ keySize: 4, valueSize: 8, maxEntries: 4 });
    const maps = new MapTable().add(hash, 5);
    const helpers = kexecHelpers({ maps });
    const update = (flags: number) => `
      stw [%r10-4], 3
      stdw [%r10-16], 99
      lddw_map_fd %r1, 5
      mov %r2, %r10
      add %r2, -4
      mov %r3, %r10
      add %r3, -16
      mov %r4, ${flags}
      call 2
      exit`;
    expect(signed(runAsm(update(BPF_EXIST), { helpers, maps }).r0)).toBe(-E.ENOENT);
    expect(signed(runAsm(update(BPF_NOEXIST), { helpers, maps }).r0)).toBe(0);
    expect(signed(runAsm(update(BPF_NOEXIST), { helpers, maps }).r0)).toBe(-E.EEXIST);
    expect(hash.lookup(u32(3))).toEqual(u64(99));
    expect(runAsm(lookupAndWrite.replace('lddw_map_fd %r1, 0', 'lddw_map_fd %r1, 5'), { helpers, maps }).r0).toBe(1n);
    expect(hash.lookup(u32(3))).toEqual(u64(77));
    const del = 'stw [%r10-4], 3\nlddw_map_fd %r1, 5\nmov %r2, %r10\nadd %r2, -4\ncall 3\nexit';
    expect(signed(runAsm(del, { helpers, maps }).r0)).toBe(0);
    expect(signed(runAsm(del, { helpers, maps }).r0)).toBe(-E.ENOENT);
  });

  it('makes BPF_F_RDONLY_PROG values read-only for the program and resolves lddw map_value', () => {
    const ro = new ArrayMap({ name: '.rodata', keySize: 4, valueSize: 8, maxEntries: 1, mapFlags: BPF_F_RDONLY_PROG });
    ro.element(0).set(u64(0x42));
    const maps = new MapTable().add(ro);
    const helpers = kexecHelpers({ maps });
    expect(runAsm('lddw_map_value %r1, 0, 0\nldxdw %r0, [%r1]\nexit', { helpers, maps }).r0).toBe(0x42n);
    const e = vmFailure(() => runAsm(lookupAndWrite.replace('stw [%r10-4], 3', 'stw [%r10-4], 0'), { helpers, maps }));
    expect(e.code).toBe('READ_ONLY');
  });

  it('faults on a map handle that names no map, or a ringbuf given to map helpers', () => {
    const maps = new MapTable().add(new RingBuf({ maxEntries: 4096 }));
    const helpers = kexecHelpers({ maps });
    const e = vmFailure(() => runAsm('mov %r1, 1\ncall 1\nexit', { helpers, maps }));
    expect([e.code, (e.cause as HelperError).code]).toEqual(['HELPER_FAULT', 'NOT_A_MAP']);
    const w = vmFailure(() => runAsm('lddw_map_fd %r1, 0\nmov %r2, %r10\ncall 1\nexit', { helpers, maps }));
    expect((w.cause as HelperError).code).toBe('WRONG_MAP_TYPE');
  });
});
