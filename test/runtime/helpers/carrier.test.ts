import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CARRIER_DIR, E, MAX_RESOURCE_SIZE } from '../../../bpf/abi/index.ts';
import { KernelLog, kexecHelpers, MapTable, ResourceStore, RingBuf } from '../../../runtime/helpers/index.ts';
import { concat, cstr, runAsm, signed } from './support.ts';

/** Input region: the name at 0 (16 bytes), the buffer at 16. */
const carrier = (size: number, dir: number | bigint, bufReg = '%r2') => `
  mov %r6, %r1
  mov %r2, %r6
  add %r2, 16
  ${bufReg === '0' ? 'mov %r2, 0' : ''}
  mov %r1, %r6
  mov %r3, ${size}
  lddw %r4, ${dir}
  call 212
  exit`;

const setup = (initial: ConstructorParameters<typeof ResourceStore>[0] = {}) => {
  const resources = new ResourceStore(initial);
  const log = new KernelLog(() => 0n);
  return { resources, log, helpers: kexecHelpers({ resources, log }) };
};

describe('bpf_helper_carrier (212)', () => {
  const kernel = Uint8Array.from({ length: 40 }, (_, i) => i + 1);

  it('IN copies min(size, len) bytes and returns the count; size 0 returns the length', () => {
    const { helpers } = setup({ kernel });
    const mem = concat(cstr('kernel', 16), new Uint8Array(64));
    expect(signed(runAsm(carrier(16, CARRIER_DIR.IN), { helpers, mem }).r0)).toBe(16);
    expect(mem.subarray(16, 32)).toEqual(kernel.subarray(0, 16));
    expect(mem[32]).toBe(0);
    mem.fill(0xee, 16);
    expect(signed(runAsm(carrier(64, CARRIER_DIR.IN), { helpers, mem }).r0)).toBe(40);
    expect(mem.subarray(16, 56)).toEqual(kernel);
    // bytes past the resource are left as they were
    expect(mem[56]).toBe(0xee);
    expect(signed(runAsm(carrier(0, CARRIER_DIR.IN, '0'), { helpers, mem }).r0)).toBe(40);
  });

  it('OUT replaces the resource with a copy of the buffer; IN then reads it back', () => {
    const { helpers, resources, log } = setup({ kernel });
    const mem = concat(cstr('cmdline', 16), cstr('console=ttyS0 quiet', 48));
    expect(signed(runAsm(carrier(20, CARRIER_DIR.OUT), { helpers, mem }).r0)).toBe(20);
    mem.fill(0, 16);
    expect(Buffer.from(resources.get('cmdline')!).toString('latin1')).toBe('console=ttyS0 quiet\0');
    expect(signed(runAsm(carrier(48, CARRIER_DIR.IN), { helpers, mem }).r0)).toBe(20);
    expect(Buffer.from(mem.subarray(16, 35)).toString('latin1')).toBe('console=ttyS0 quiet');
    expect([...resources.replaced]).toEqual(['cmdline']);
    expect(log.lines()).toEqual(['[    0.000000] kexec_bpf: cmdline replaced (20 bytes)']);
    // size 0 empties it
    expect(signed(runAsm(carrier(0, CARRIER_DIR.OUT, '0'), { helpers, mem }).r0)).toBe(0);
    expect(resources.get('cmdline')).toEqual(new Uint8Array(0));
  });

  it('APPEND adds a copy of the buffer at the end, creating an absent resource; size 0 creates it empty', () => {
    const { helpers, resources } = setup({ kernel });
    const mem = concat(cstr('initrd', 16), Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    expect(signed(runAsm(carrier(0, CARRIER_DIR.APPEND, '0'), { helpers, mem }).r0)).toBe(0);
    expect(resources.get('initrd')).toEqual(new Uint8Array(0));
    expect(signed(runAsm(carrier(3, CARRIER_DIR.APPEND), { helpers, mem }).r0)).toBe(3);
    expect(signed(runAsm(carrier(5, CARRIER_DIR.APPEND), { helpers, mem }).r0)).toBe(5);
    expect(resources.get('initrd')).toEqual(Uint8Array.of(1, 2, 3, 1, 2, 3, 4, 5));
    mem.fill(0, 16);
    expect(resources.get('initrd')).toEqual(Uint8Array.of(1, 2, 3, 1, 2, 3, 4, 5));
    const big = `mov %r2, %r1\nadd %r2, 16\nlddw %r3, ${MAX_RESOURCE_SIZE - 7}\nmov %r4, 2\ncall 212\nexit`;
    expect(signed(runAsm(big, { helpers, mem }).r0)).toBe(-E.E2BIG);
    expect(resources.get('initrd')!.length).toBe(8);
  });

  it('answers -EINVAL for unknown names and directions, -ENOENT for a missing resource, -E2BIG past the cap', () => {
    const { helpers, log } = setup({ kernel });
    const mem = (name: Uint8Array) => concat(name, new Uint8Array(32));
    expect(signed(runAsm(carrier(8, 0), { helpers, mem: mem(cstr('vmlinuz', 16)) }).r0)).toBe(-E.EINVAL);
    // a name that is not terminated within the longest resource name
    expect(signed(runAsm(carrier(8, 0), { helpers, mem: mem(new Uint8Array(16).fill(0x61)) }).r0)).toBe(-E.EINVAL);
    expect(signed(runAsm(carrier(8, 3), { helpers, mem: mem(cstr('kernel', 16)) }).r0)).toBe(-E.EINVAL);
    expect(signed(runAsm(carrier(8, 1n << 32n), { helpers, mem: mem(cstr('kernel', 16)) }).r0)).toBe(-E.EINVAL);
    expect(signed(runAsm(carrier(8, 0), { helpers, mem: mem(cstr('initrd', 16)) }).r0)).toBe(-E.ENOENT);
    const big = `mov %r2, %r1\nadd %r2, 16\nlddw %r3, ${MAX_RESOURCE_SIZE + 1}\nmov %r4, 1\ncall 212\nexit`;
    expect(signed(runAsm(big, { helpers, mem: mem(cstr('initrd', 16)) }).r0)).toBe(-E.E2BIG);
    expect(log.lines()[0]).toBe(
      '[    0.000000] kexec_bpf: bpf_helper_carrier("vmlinuz"): not a boot resource: -EINVAL (Invalid argument)',
    );
  });

  it('moves a resource through a kexec_input ring-buffer record (reserve, IN, OUT, discard)', () => {
    const input = new RingBuf({ name: 'kexec_input', maxEntries: 8192 });
    const maps = new MapTable().add(input);
    const resources = new ResourceStore({ kernel });
    const helpers = kexecHelpers({ maps, resources });
    const prog = `
      mov %r6, %r1
      lddw_map_fd %r1, 0
      mov %r2, 4096
      mov %r3, 0
      call 131
      jeq %r0, 0, fail
      mov %r7, %r0
      mov %r1, %r6
      mov %r2, %r7
      mov %r3, 4096
      mov %r4, 0
      call 212
      mov %r8, %r0
      stb [%r7], 0x7f
      mov %r1, %r6
      add %r1, 16
      mov %r2, %r7
      mov %r3, %r8
      and %r3, 4095
      mov %r4, 1
      call 212
      mov %r1, %r7
      mov %r2, 0
      call 133
      mov %r0, %r8
      exit
    fail:
      mov %r0, -1
      exit`;
    const r = runAsm(prog, { helpers, maps, mem: concat(cstr('kernel', 16), cstr('initrd', 16)) });
    expect(signed(r.r0)).toBe(40);
    expect(resources.get('initrd')).toEqual(concat(Uint8Array.of(0x7f), kernel.subarray(1)));
    expect(input.drain()).toEqual([]);
    expect(input.consumerPos).toBe(4104);
  });
});

describe('bpf_helper_carrier properties', () => {
  it('IN copies exactly min(size, len) bytes of any resource and leaves the rest of buf alone', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('kernel', 'initrd', 'cmdline'),
        fc.uint8Array({ maxLength: 300 }),
        fc.nat(320),
        (name, bytes, size) => {
          const { helpers } = setup({ [name]: bytes });
          const mem = concat(cstr(name, 16), new Uint8Array(size).fill(0xcc));
          const r = signed(runAsm(carrier(size, CARRIER_DIR.IN, size === 0 ? '0' : '%r2'), { helpers, mem }).r0);
          const n = Math.min(size, bytes.length);
          expect(r).toBe(size === 0 ? bytes.length : n);
          expect(mem.subarray(16, 16 + n)).toEqual(bytes.subarray(0, n));
          expect(mem.subarray(16 + n).every((b) => b === 0xcc)).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('ResourceStore.append (carrier APPEND, in place while its block has room)', () => {
  it('equals the concatenation after any sequence of appends and replaces, and earlier views keep their bytes', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 40 }).map((b) => ['append', b] as const),
            fc.uint8Array({ maxLength: 40 }).map((b) => ['set', b] as const),
          ),
          { maxLength: 30 },
        ),
        (ops) => {
          const store = new ResourceStore();
          let model = new Uint8Array(0);
          const seen: [Uint8Array, Uint8Array][] = [];
          for (const [op, b] of ops) {
            if (op === 'append') {
              store.append('initrd', b);
              model = Uint8Array.from([...model, ...b]);
            } else {
              store.set('initrd', b.slice());
              model = b.slice();
            }
            const got = store.get('initrd') ?? new Uint8Array(0);
            expect(got).toEqual(model);
            seen.push([got, model]);
          }
          for (const [view, bytes] of seen) expect(view).toEqual(bytes);
        },
      ),
      { numRuns: 300 },
    );
  });
});
