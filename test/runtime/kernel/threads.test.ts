/**
 * The handshake end to end with real threads: ThreadA (a worker) blocks in kexec_file_load through the
 * syscall channel while ThreadB (another worker) waits on eventfd A — a real eventfd(2) — reads the
 * procfs node, loads and attaches the parser over bpf(), and signals eventfd B.
 * (leaks.test.ts runs the same in a process of its own and counts the process's fds.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import { E } from '../../../bpf/abi/index.ts';
import type { WorkerReport } from './loader-worker.ts';
import { tempDir } from './support.ts';
import { runThreads } from './thread-rig.ts';

const tmp = tempDir();
afterAll(() => tmp.remove());

const stagesOf = (r: WorkerReport): readonly string[] => {
  if (!('stages' in r)) throw new Error(`ThreadB reported ${JSON.stringify(r)}`);
  return r.stages;
};

describe('ThreadA and ThreadB as worker threads', () => {
  it('load a nested signed image through the eventfd/procfs handshake', async () => {
    const r = await runThreads(tmp.dir, 'load', 5000);
    expect(r.resultA).toEqual({ role: 'threadA', errno: 0 });
    const stages = stagesOf(r.resultB);
    expect(stages).toHaveLength(2);
    expect(stages.every((s) => s.startsWith('attached '))).toBe(true);
    expect(r.kimage?.kernel).toEqual(r.bz);
    expect(r.kimage?.cmdline).toEqual(new Uint8Array(Buffer.from('console=ttyS0\0')));
    expect(r.kimage?.stages.map((s) => s.depth)).toEqual([0, 1]);
    expect(r.dmesg.join('\n')).toContain('kexec_file: default image loaded');
    expect([r.exitA, r.exitB]).toEqual([0, 0]);
    expect(r.leftover).toEqual([]);
    expect(r.heldAfter).toEqual([]);
  });

  it('time out with -ETIMEDOUT when ThreadB never answers', async () => {
    const r = await runThreads(tmp.dir, 'ignore', 200);
    expect(r.resultA).toEqual({ role: 'threadA', errno: -E.ETIMEDOUT });
    expect(stagesOf(r.resultB)).toHaveLength(1);
    expect(r.kimage).toBeUndefined();
    expect([r.exitA, r.exitB]).toEqual([0, 0]);
    expect(r.heldAfter).toEqual([]);
  });
});
