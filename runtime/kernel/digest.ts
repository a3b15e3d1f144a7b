/**
 * sha256 of large buffers off the calling thread, so that the kernel's several digests of one image run
 * side by side: libcrypto's one-shot SHA256() is called through koffi on libuv's thread pool, reading the
 * buffer in place (no copy: crypto.subtle.digest would copy it first, on the calling thread). Without a
 * loadable libcrypto, or for small buffers, node:crypto hashes on the calling thread. Callers must not
 * write into a buffer until its digest has resolved.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';

type Sha256Fn = {
  async(d: Uint8Array, n: number, md: Uint8Array, done: (err: unknown) => void): void;
};

/** Below this size the thread-pool round trip is not worth it. */
const OFF_THREAD_MIN = 1 << 20;

/** The sonames tried, newest first (OpenSSL 3, then 1.1). */
const LIBCRYPTO = ['libcrypto.so.3', 'libcrypto.so.1.1'] as const;

let sha256Fn: Sha256Fn | null | undefined;
const libSha256 = (): Sha256Fn | null => {
  if (sha256Fn !== undefined) return sha256Fn;
  sha256Fn = null;
  for (const soname of LIBCRYPTO) {
    try {
      const koffi = createRequire(import.meta.url)('koffi') as { load(p: string): { func(decl: string): Sha256Fn } };
      sha256Fn = koffi.load(soname).func('void *SHA256(const uint8_t *d, size_t n, _Out_ uint8_t *md)');
      break;
    } catch {
      // not installed under this name: try the next, else hash in this thread
    }
  }
  return sha256Fn;
};

/** sha256 on the calling thread, as hex. */
export const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** sha256 of `b` as hex, computed on the thread pool when `b` is large (see the module comment). */
export const sha256Off = (b: Uint8Array): Promise<string> => {
  const fn = b.length >= OFF_THREAD_MIN ? libSha256() : null;
  if (fn === null) return Promise.resolve(sha256Hex(b));
  const md = new Uint8Array(32);
  return new Promise((resolve, reject) => {
    fn.async(b, b.length, md, (err) => (err ? reject(err) : resolve(Buffer.from(md).toString('hex'))));
  });
};
