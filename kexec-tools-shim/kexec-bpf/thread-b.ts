/**
 * ThreadB, as kexec-tools would run it: registers its eventfds (and the addon files), waits on eventfd
 * A, reads the `.bpf` node from procfs, loads and attaches the parser with bpf(2) (the verifier runs in
 * the kernel), fills the addon-name map, and signals eventfd B. It keeps what it attached until the
 * hosting thread says the load is over ('release'), then closes it.
 */
import { closeSync, readFileSync } from 'node:fs';
import { receiveMessageOnPort } from 'node:worker_threads';
import { ADDON_MAP } from '../../bpf/abi/index.ts';
import { SyscallClient } from '../../runtime/kernel/channel.ts';
import { closeRawFd, eventfdCreate, eventfdSignal, eventfdWaitSync } from '../../runtime/kernel/eventfd.ts';
import { loadParser } from '../../runtime/kernel/parser-loader.ts';
import { bpfProgPath } from '../../runtime/kernel/procfs.ts';
import { LogLevel } from '../../runtime/verifier/log/writer.ts';
import type { FromThreadB, StageLog, ThreadJob, ToThreadB } from './protocol.ts';
import { openOrFail, port } from './thread-common.ts';

/** How long ThreadB waits on eventfd A before looking at its control messages again. */
const POLL_MS = 10;

/** The verifier log's summary line (`processed N insns …`), as a suffix; empty when the log has none. */
const verdictOf = (log: string): string => {
  const line = log.split('\n').find((l) => l.startsWith('processed '));
  return line === undefined ? '' : ` (${line.trim()})`;
};

export const threadB = (job: Extract<ThreadJob, { role: 'threadB' }>): void => {
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
      const node = bpfProgPath(job.procRoot);
      const section = new Uint8Array(readFileSync(node));
      const handshake = [`eventfd A (fd ${a}) signalled; read the .bpf node (${section.length} bytes)`];
      if (job.fault === 'crash') throw new Error('injected loader fault (KEXEC_BPF_FAULT=crash)');
      // As libbpf: a program that loads needs no verbose log (BPF_LOG_STATS gives the "processed N insns"
      // line, cheaply); a rejected one is loaded again with the verbose log, to show why.
      const quick = logLevel === LogLevel.VERBOSE ? LogLevel.STATS : logLevel;
      const first = loadParser(sys, section, { logLevel: quick, addons: names });
      const r =
        'progFd' in first || first.step !== 'prog' || quick === logLevel
          ? first
          : loadParser(sys, section, { logLevel, addons: names });
      if ('progFd' in r) {
        opened.push(r.linkFd, r.progFd, ...r.mapFds.values());
        handshake.push(
          `bpf(BPF_MAP_CREATE) × ${r.mapFds.size}: ${[...r.mapFds.keys()].join(', ')}` +
            (r.mapFds.has(ADDON_MAP.name) ? `; ${ADDON_MAP.name} filled with: ${names.join(', ') || '(none)'}` : ''),
          `bpf(BPF_PROG_LOAD) = fd ${r.progFd}: the verifier accepted the program${verdictOf(r.log)}`,
          `bpf(BPF_LINK_CREATE) = fd ${r.linkFd}: attached to the parser hook`,
          `eventfd B (fd ${b}) signalled: the kernel runs the parser`,
        );
        stages.push({ sectionBytes: section.length, step: 'attached', errno: 0, message: '', log: r.log, handshake });
      } else {
        handshake.push(`${r.step} step failed (${r.errno}): ${r.message}`, `eventfd B (fd ${b}) signalled`);
        stages.push({
          sectionBytes: section.length,
          step: r.step,
          errno: r.errno,
          message: r.message,
          log: r.log,
          handshake,
        });
      }
      const slow = /^slow:(\d+)$/.exec(job.fault ?? '');
      if (slow) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(slow[1]));
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
