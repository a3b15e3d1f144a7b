/**
 * The two threads of a kexec-tools-style loader, as worker threads calling the kernel through the
 * syscall channel: 'threadA' enters kexec_file_load; 'threadB' registers its eventfds, waits on
 * eventfd A, reads the procfs node, loads and attaches the parser, signals eventfd B — until told to
 * stop — then closes everything it opened.
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import {
  bpfProgPath,
  closeRawFd,
  eventfdCreate,
  eventfdSignal,
  eventfdWaitSync,
  type KexecFileLoadArgs,
  loadParser,
  SyscallClient,
  type SyscallEndpoint,
} from '../../../runtime/kernel/index.ts';

export type WorkerJob =
  | {
      readonly role: 'threadA';
      readonly endpoint: SyscallEndpoint;
      readonly kernelPath: string;
      readonly args: Omit<KexecFileLoadArgs, 'kernelFd'>;
    }
  | {
      readonly role: 'threadB';
      readonly endpoint: SyscallEndpoint;
      readonly procRoot: string;
      /** Int32Array(1): set to 1 to stop. */
      readonly stop: SharedArrayBuffer;
      /** 'ignore': wait but never answer. */
      readonly mode: 'load' | 'ignore';
    };

export type WorkerReport =
  | { readonly role: 'threadA'; readonly errno: number }
  | { readonly role: 'threadB'; readonly event: 'ready' }
  | { readonly role: 'threadB'; readonly event: 'done'; readonly stages: readonly string[] };

const post = (r: WorkerReport): void => parentPort?.postMessage(r);

const threadA = (job: Extract<WorkerJob, { role: 'threadA' }>): void => {
  const sys = new SyscallClient(job.endpoint);
  const fd = openSync(job.kernelPath, 'r');
  try {
    post({ role: 'threadA', errno: sys.kexecFileLoad({ ...job.args, kernelFd: fd }) });
  } finally {
    closeSync(fd);
    sys.disconnect();
  }
};

const threadB = (job: Extract<WorkerJob, { role: 'threadB' }>): void => {
  const sys = new SyscallClient(job.endpoint);
  const stop = new Int32Array(job.stop);
  const a = eventfdCreate();
  const b = eventfdCreate();
  const opened: number[] = [];
  const stages: string[] = [];
  try {
    if (sys.registerLoader({ eventA: a, eventB: b }) !== 0) throw new Error('registerLoader failed');
    post({ role: 'threadB', event: 'ready' });
    while (Atomics.load(stop, 0) === 0) {
      if (!eventfdWaitSync(a, 20)) continue;
      const section = new Uint8Array(readFileSync(bpfProgPath(job.procRoot)));
      if (job.mode === 'ignore') {
        stages.push(`ignored ${section.length}`);
        continue;
      }
      const r = loadParser(sys, section, { logLevel: 1 });
      if ('progFd' in r) {
        opened.push(r.linkFd, r.progFd, ...r.mapFds.values());
        stages.push(`attached ${section.length}`);
      } else {
        stages.push(`${r.step} ${r.errno}`);
      }
      eventfdSignal(b);
    }
  } finally {
    for (const fd of opened) sys.close(fd);
    sys.registerLoader({ eventA: -1, eventB: -1 });
    closeRawFd(a);
    closeRawFd(b);
    post({ role: 'threadB', event: 'done', stages });
    sys.disconnect();
  }
};

const job = workerData.job as WorkerJob;
if (job.role === 'threadA') threadA(job);
else threadB(job);
