/** sha256 off the calling thread: the same digests as node:crypto, for small and large buffers, side by side. */
import { createHash, randomFillSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { placeSegments, sha256Hex, sha256Off } from '../../../runtime/kernel/index.ts';

const reference = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('sha256Off', () => {
  it('matches node:crypto below and above the thread-pool size, on views into larger buffers', async () => {
    const big = randomFillSync(new Uint8Array((3 << 20) + 77));
    const cases = [new Uint8Array(0), big.subarray(5, 6), big.subarray(1, (1 << 20) + 3), big.subarray(9)];
    for (const b of cases) {
      expect(await sha256Off(b)).toBe(reference(b));
      expect(sha256Hex(b)).toBe(reference(b));
    }
  });

  it('runs several digests at once while this thread hashes the same bytes', async () => {
    const bufs = [0, 1, 2].map((i) => randomFillSync(new Uint8Array((2 << 20) + i)));
    const pending = bufs.map((b) => sha256Off(b));
    const here = bufs.map(reference);
    expect(await Promise.all(pending)).toEqual(here);
  });
});

describe('placeSegments', () => {
  it('digests each segment and all of them in order, placing them upwards with their alignment', async () => {
    const kernel = randomFillSync(new Uint8Array((1 << 20) + 4097));
    const initrd = randomFillSync(new Uint8Array(3000));
    const plan = [
      { name: 'kernel' as const, buf: kernel, memsz: 2 << 20, align: 2 << 20 },
      { name: 'initrd' as const, buf: initrd, memsz: initrd.length, align: 4096 },
    ];
    const { segments, digest } = await placeSegments(plan, 0x8000_0000);
    expect(digest).toBe(createHash('sha256').update(kernel).update(initrd).digest('hex'));
    expect(segments).toEqual([
      { name: 'kernel', mem: 0x8000_0000, memsz: 2 << 20, bufsz: kernel.length, sha256: reference(kernel) },
      { name: 'initrd', mem: 0x8020_0000, memsz: 4096, bufsz: initrd.length, sha256: reference(initrd) },
    ]);
  });
});
