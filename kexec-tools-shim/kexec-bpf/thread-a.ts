/**
 * ThreadA, as kexec-tools would run it: opens the kernel (and initrd) and enters kexec_file_load(2)
 * through the syscall channel, blocking there while ThreadB serves the kernel's handshake. It imports
 * only the syscall channel, so it starts quickly.
 */
import { closeSync } from 'node:fs';
import { SyscallClient } from '../../runtime/kernel/channel.ts';
import type { FromThreadA, ThreadJob, ToThreadA } from './protocol.ts';
import { openOrFail, port } from './thread-common.ts';

export const threadA = (job: Extract<ThreadJob, { role: 'threadA' }>): void => {
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
