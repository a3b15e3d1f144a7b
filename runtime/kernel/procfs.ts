/**
 * The read-only procfs node through which the kernel "reflects" a `.bpf` section to the loader (the
 * RFC names no path; docs/ABI.md §5 fixes `<procfs root>/kexec/bpf_prog`). The root is a real directory
 * (the simulated kernel's /proc), so the loader reads a real file. The node exists only while a stage
 * waits for the loader; it is written atomically (temporary file + rename) with mode 0444.
 */
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PROCFS_DIR = 'kexec';
export const PROCFS_BPF_PROG = 'bpf_prog';

/** `<root>/kexec/bpf_prog`. */
export const bpfProgPath = (procRoot: string): string => join(procRoot, PROCFS_DIR, PROCFS_BPF_PROG);

export class ProcFs {
  readonly root: string;
  constructor(root: string) {
    this.root = root;
  }

  get bpfProg(): string {
    return bpfProgPath(this.root);
  }

  publish(bytes: Uint8Array): void {
    mkdirSync(join(this.root, PROCFS_DIR), { recursive: true });
    const tmp = `${this.bpfProg}.${process.pid}.tmp`;
    writeFileSync(tmp, bytes, { mode: 0o444 });
    chmodSync(tmp, 0o444);
    renameSync(tmp, this.bpfProg);
  }

  withdraw(): void {
    rmSync(this.bpfProg, { force: true });
  }
}
