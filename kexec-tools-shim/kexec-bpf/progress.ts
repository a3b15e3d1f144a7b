/**
 * A progress bar on a TTY while large images are read and hashed before the load (this also brings
 * them into the page cache the kernel then reads from). Quiet — and skipped — when stderr is not a
 * terminal or the files are small.
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { SingleBar } from 'cli-progress';

/** Below this many bytes in all, no bar is worth drawing. */
export const PROGRESS_MIN_BYTES = 16 * 2 ** 20;

export interface ProgressStream extends NodeJS.WritableStream {
  readonly isTTY?: boolean;
}

/** sha256 of each file by path when a bar was shown; undefined when it was not (not a TTY, small files). */
export const hashWithProgress = async (
  paths: readonly string[],
  stream: ProgressStream = process.stderr,
  minBytes = PROGRESS_MIN_BYTES,
): Promise<Map<string, string> | undefined> => {
  if (stream.isTTY !== true) return undefined;
  const sizes = paths.map((p) => statSync(p).size);
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total < minBytes) return undefined;
  const bar = new SingleBar({
    stream,
    format: 'kexec-bpf: reading {file} [{bar}] {percentage}% {value}/{total} MiB',
    hideCursor: true,
    clearOnComplete: true,
  });
  const mib = (n: number): number => Math.round(n / 2 ** 20);
  bar.start(mib(total), 0, { file: paths[0] ?? '' });
  const out = new Map<string, string>();
  let done = 0;
  try {
    for (const p of paths) {
      const h = createHash('sha256');
      for await (const chunk of createReadStream(p, { highWaterMark: 4 * 2 ** 20 })) {
        h.update(chunk as Buffer);
        done += (chunk as Buffer).length;
        bar.update(mib(done), { file: p });
      }
      out.set(p, h.digest('hex'));
    }
  } finally {
    bar.stop();
  }
  return out;
};
