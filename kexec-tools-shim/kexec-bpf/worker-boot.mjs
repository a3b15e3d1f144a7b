// Starts a loader thread: registers tsx in this worker, then imports workerData.entry (threads.ts, which picks the role).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
