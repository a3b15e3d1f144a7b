/**
 * The two loader threads, as kexec-tools would run them: ThreadA enters kexec_file_load(2) through the
 * syscall channel and blocks there; ThreadB registers its eventfds (and the addon files), waits on
 * eventfd A, reads the `.bpf` node from procfs, loads and attaches the parser with bpf(2) (the verifier
 * runs in the kernel), fills the addon-name map, and signals eventfd B. ThreadB keeps what it attached
 * until the hosting thread says the load is over ('release'), then closes it.
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import {
  bpfProgPath,
  closeRawFd,
  eventfdCreate,
  eventfdSignal,
  eventfdWaitSync,
  loadParser,
  SyscallClient,
} from '../../runtime/kernel/index.ts';
import type { FromThreadA, FromThreadB, StageLog, ThreadJob, ToThreadA, ToThreadB } from './protocol.ts';

/** How long ThreadB waits on eventfd A before looking at its control messages again. */
const POLL_MS = 10;

const port = parentPort as MessagePort;

const openOrFail = (path: string): number | { path: string; code: string } => {
  try {
    return openSync(path, 'r');
  } catch (e) {
    return { path, code: (e as NodeJS.ErrnoException).code ?? 'EIO' };
  }
};

const threadA = (job: Extract<ThreadJob, { role: 'threadA' }>): void => {
  const sys = new SyscallClient(job.endpoint);
  const post = (m: FromThreadA): void => port.postMessage(m);
  port.on('message', (m: ToThreadA) => {
    if (m.cmd === 'stop') {
      sys.disconnect();
      port.close();
      return;
    }
    const { kernelPath, initrdPath, cmdline, flags } = m.job;
    const fds: number[] = [];
    try {
      const k = openOrFail(kernelPath);
      if (typeof k !== 'number') {
        post({ ev: 'open-failed', ...k });
        return;
      }
      fds.push(k);
      let initrdFd = -1;
      if (initrdPath !== undefined) {
        const i = openOrFail(initrdPath);
        if (typeof i !== 'number') {
          post({ ev: 'open-failed', ...i });
          return;
        }
        fds.push(i);
        initrdFd = i;
      }
      post({ ev: 'loaded', errno: sys.kexecFileLoad({ kernelFd: k, initrdFd, cmdline, flags }) });
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  });
};

const threadB = (job: Extract<ThreadJob, { role: 'threadB' }>): void => {
  const sys = new SyscallClient(job.endpoint);
  const post = (m: FromThreadB): void => port.postMessage(m);
  const a = eventfdCreate();
  const b = eventfdCreate();
  let opened: number[] = [];
  let stages: StageLog[] = [];
  let names: string[] = [];
  let logLevel = 1;
  const release = (): void => {
    for (const fd of opened) sys.close(fd);
    opened = [];
  };
  const arm = (m: Extract<ToThreadB, { cmd: 'arm' }>): void => {
    const fds: number[] = [];
    try {
      for (const addon of m.addons) {
        const fd = openOrFail(addon.path);
        if (typeof fd !== 'number') {
          post({ ev: 'armed', errno: 0, failed: fd });
          return;
        }
        fds.push(fd);
      }
      const addons = m.addons.map((x, i) => ({ name: x.name, fd: fds[i] as number }));
      names = m.addons.map((x) => x.name);
      logLevel = m.logLevel;
      stages = [];
      post({ ev: 'armed', errno: sys.registerLoader({ eventA: a, eventB: b, addons }) });
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  };
  post({ ev: 'ready', eventA: a, eventB: b });
  try {
    for (;;) {
      const got = receiveMessageOnPort(port);
      if (got !== undefined) {
        const m = got.message as ToThreadB;
        if (m.cmd === 'stop') break;
        if (m.cmd === 'arm') arm(m);
        else {
          release();
          post({ ev: 'released', stages });
          stages = [];
        }
        continue;
      }
      if (!eventfdWaitSync(a, POLL_MS)) continue;
      const section = new Uint8Array(readFileSync(bpfProgPath(job.procRoot)));
      if (job.fault === 'crash') throw new Error('injected loader fault (KEXEC_BPF_FAULT=crash)');
      const r = loadParser(sys, section, { logLevel, addons: names });
      if ('progFd' in r) {
        opened.push(r.linkFd, r.progFd, ...r.mapFds.values());
        stages.push({ sectionBytes: section.length, step: 'attached', errno: 0, message: '', log: r.log });
      } else {
        stages.push({ sectionBytes: section.length, step: r.step, errno: r.errno, message: r.message, log: r.log });
      }
      eventfdSignal(b);
    }
  } finally {
    release();
    sys.registerLoader({ eventA: -1, eventB: -1 });
    closeRawFd(a);
    closeRawFd(b);
    post({ ev: 'stopped' }); // also after a crash: the hosting thread must not close these fds again
    sys.disconnect();
  }
  port.close();
};

const job = workerData.job as ThreadJob;
if (job.role === 'threadA') threadA(job);
else threadB(job);
