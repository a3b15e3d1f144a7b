/**
 * A loader thread's entry (worker-boot.mjs imports it): ThreadA (thread-a.ts) or ThreadB (thread-b.ts),
 * each importing only what it needs.
 */
import { workerData } from 'node:worker_threads';
import type { ThreadJob } from './protocol.ts';

const job = workerData.job as ThreadJob;
if (job.role === 'threadA') (await import('./thread-a.ts')).threadA(job);
else (await import('./thread-b.ts')).threadB(job);
