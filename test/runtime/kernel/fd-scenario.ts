/**
 * Run by leaks.test.ts in a process of its own (so no other test's threads open fds meanwhile): the
 * worker-thread handshake, a timeout and an in-thread load, with /proc/self/fd counted before and after.
 * Prints one JSON line. The process must then exit by itself: no thread, port or handle left behind.
 */
import { closeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeRawFd, eventfdCreate, KEXEC_FILE, Kernel } from '../../../runtime/kernel/index.ts';
import { testKeys } from '../../support/fixtures.ts';
import {
  closeLoaded,
  fdCount,
  inThreadLoader,
  openRead,
  parserPe,
  payload,
  sign,
  synthBzImage,
  tempDir,
} from './support.ts';
import { runThreads } from './thread-rig.ts';

const tmp = tempDir();
const image = sign(parserPe(parserPe(synthBzImage(payload(900)))));
testKeys();
const before = fdCount();
const threads = await runThreads(tmp.dir, 'load', 5000);
const timeout = await runThreads(tmp.dir, 'ignore', 100);

const kernel = await Kernel.create({
  procRoot: join(tmp.dir, 'proc-inthread'),
  keyrings: { builtin: [testKeys().rsa.cert] },
});
const a = eventfdCreate();
const b = eventfdCreate();
kernel.registerLoader({ eventA: a, eventB: b });
const path = join(tmp.dir, 'inthread.efi');
writeFileSync(path, image);
const fd = openRead(path);
const loader = inThreadLoader(kernel, a, b);
const inThread = await kernel.kexecFileLoad({ kernelFd: fd, initrdFd: -1, flags: KEXEC_FILE.NO_INITRAMFS });
loader.stop();
closeLoaded(kernel, await loader.done);
closeSync(fd);
closeRawFd(a);
closeRawFd(b);
kernel.shutdown();
const after = fdCount();
tmp.remove();
process.stdout.write(
  `${JSON.stringify({ before, after, threads: threads.resultA, timeout: timeout.resultA, inThread })}\n`,
);
