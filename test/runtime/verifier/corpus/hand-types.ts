/** Types and maps shared by the hand-written corpus (hand-core.ts, hand-helpers.ts). */
import type { MapDesc } from '../../../../runtime/verifier/index.ts';

export type ProgKind = 'socket' | 'xdp' | 'syscall';

export interface HandCase {
  readonly name: string;
  readonly asm: string;
  readonly maps?: readonly MapDesc[];
  readonly prog?: ProgKind;
  readonly license?: string;
  /** BTF func_info linkage per subprogram (needed for callbacks). */
  readonly funcs?: readonly ('static' | 'global')[];
}

const enc = (s: string, n: number): Uint8Array => {
  const b = new Uint8Array(n);
  b.set(new TextEncoder().encode(s));
  return b;
};
const hash: MapDesc = { name: 'hash', type: 1, keySize: 4, valueSize: 8, maxEntries: 16 };
const arr: MapDesc = { name: 'arr', type: 2, keySize: 4, valueSize: 8, maxEntries: 4 };
const rb: MapDesc = { name: 'rb', type: 27, keySize: 0, valueSize: 0, maxEntries: 4096 };
const ro: MapDesc = {
  name: 'ro',
  type: 2,
  keySize: 4,
  valueSize: 16,
  maxEntries: 1,
  flags: 0x80,
  frozen: true,
  data: enc('hello %d', 16),
};
const big: MapDesc = { name: 'big', type: 2, keySize: 4, valueSize: 64, maxEntries: 1 };
export const MAPS: readonly MapDesc[] = [hash, arr, rb, ro, big];
