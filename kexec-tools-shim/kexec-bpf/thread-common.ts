/** What both loader threads share: their port to the hosting thread, and opening a file without throwing. */
import { openSync } from 'node:fs';
import { type MessagePort, parentPort } from 'node:worker_threads';

export const port = parentPort as MessagePort;

/** An fd, or the path and Node error code when the file cannot be opened (reported, not thrown). */
export const openOrFail = (path: string): number | { path: string; code: string } => {
  try {
    return openSync(path, 'r');
  } catch (e) {
    return { path, code: (e as NodeJS.ErrnoException).code ?? 'EIO' };
  }
};
