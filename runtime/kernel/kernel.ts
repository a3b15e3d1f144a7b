/**
 * The simulated kernel: one instance holds the keyrings, the signature policy, the fd-backed kernel
 * objects of bpf(2), the kexec image slots (default and crash) and the log. Its syscalls are methods;
 * `kexecFileLoad` is asynchronous because it waits for the loader (eventfd B) without blocking the
 * thread that hosts the kernel, which keeps serving the loader's bpf() calls meanwhile.
 * Worker threads reach it through channel.ts.
 */
import { readlinkSync } from 'node:fs';
import { E } from '../../bpf/abi/index.ts';
import { authenticodeVerifier, prepareKexecHelpers, ResourceStore } from '../helpers/index.ts';
import { type Arch, probeImage, SEGMENT_BASE } from './arch.ts';
import type { KernelObject } from './bpf-objects.ts';
import { type BpfAttr, type BpfReply, BpfSubsystem } from './bpf-syscall.ts';
import { decompose, type Handshake } from './decompose.ts';
import { errnoText } from './errno.ts';
import { closeRawFd, dupFd } from './eventfd.ts';
import { closeAnyFd, ObjectTable, readKernelFile } from './files.ts';
import { type KeyringFiles, Keyrings } from './keyring.ts';
import type { Kimage } from './kimage.ts';
import { bufferDigest, placeSegments } from './kimage.ts';
import { KernelLog, prefixed } from './klog.ts';
import { ProcFs } from './procfs.ts';
import { type SigPolicy, validateSignature } from './sig-policy.ts';
import { KEXEC_FILE, KEXEC_FILE_FLAGS, type KexecFileLoadArgs, type LoaderRegistration } from './uapi.ts';

export interface KernelOptions {
  /** The directory that plays /proc (the `.bpf` node appears at `<procRoot>/kexec/bpf_prog`). */
  readonly procRoot: string;
  readonly keyrings?: Keyrings | KeyringFiles;
  /** Default 'kexec_sig' (CONFIG_KEXEC_SIG without enforcement). */
  readonly sigPolicy?: SigPolicy;
  readonly lockdown?: boolean;
  /** Default 'x86_64'. */
  readonly arch?: Arch;
  /** How long a stage waits for the loader's eventfd B (default 10 s). */
  readonly handshakeTimeoutMs?: number;
  /** The log's clock (ns since boot). */
  readonly clock?: () => bigint;
}

export type KimageSlot = 'default' | 'crash';

const cmdlineBytes = (c: KexecFileLoadArgs['cmdline']): Uint8Array | undefined => {
  if (c === undefined) return undefined;
  if (typeof c !== 'string') return c.length === 0 ? undefined : c;
  return c === '' ? undefined : new Uint8Array(Buffer.from(`${c}\0`, 'utf8'));
};

export class Kernel {
  readonly log: KernelLog;
  readonly keyrings: Keyrings;
  readonly sigPolicy: SigPolicy;
  readonly lockdown: boolean;
  readonly arch: Arch;
  readonly procfs: ProcFs;
  readonly handshakeTimeoutMs: number;
  readonly objects = new ObjectTable<KernelObject>();
  readonly bpfSys: BpfSubsystem;
  readonly #slots: Record<KimageSlot, Kimage | undefined> = { default: undefined, crash: undefined };
  #busy = false;
  #handshake: Handshake | undefined;
  #addons = new Map<string, Uint8Array>();
  /** Handshakes replaced during a load, closed when it ends. */
  readonly #retired: Handshake[] = [];
  readonly #kexec;
  readonly #onShutdown: (() => void)[] = [];

  private constructor(o: KernelOptions) {
    this.log = new KernelLog(o.clock);
    this.keyrings = o.keyrings instanceof Keyrings ? o.keyrings : Keyrings.fromFiles(o.keyrings ?? {});
    this.sigPolicy = o.sigPolicy ?? 'kexec_sig';
    this.lockdown = o.lockdown ?? false;
    this.arch = o.arch ?? 'x86_64';
    this.procfs = new ProcFs(o.procRoot);
    this.handshakeTimeoutMs = o.handshakeTimeoutMs ?? 10_000;
    this.bpfSys = new BpfSubsystem(this.objects);
    this.#kexec = prefixed(this.log, 'kexec_file');
  }

  /** A kernel ready to run programs (the helpers' asynchronous decoders loaded). */
  static async create(o: KernelOptions): Promise<Kernel> {
    await prepareKexecHelpers();
    return new Kernel(o);
  }

  /** The dmesg lines so far. */
  dmesg(): string[] {
    return this.log.lines();
  }

  bpf(attr: BpfAttr): BpfReply {
    return this.bpfSys.call(attr);
  }

  /** close(2): kernel objects are released (a link detaches), other fds closed. */
  close(fd: number): number {
    const obj = this.objects.get(fd);
    const r = closeAnyFd(this.objects, fd);
    if (obj !== undefined) this.bpfSys.onClose(obj);
    return r;
  }

  /**
   * The loader's eventfds (the kernel keeps references, as eventfd_ctx_fdget does, so the loader may
   * close its own) and its addon files. 0 or -errno: -EBADF for a closed fd, -EINVAL for one that is
   * not an eventfd, the file's errno for an unreadable addon.
   */
  registerLoader(r: LoaderRegistration): number {
    const addons = new Map<string, Uint8Array>();
    for (const a of r.addons ?? []) {
      const f = readKernelFile(a.fd);
      if ('errno' in f) return f.errno;
      addons.set(a.name, f.bytes);
    }
    let next: Handshake | undefined;
    if (r.eventA !== -1) {
      for (const fd of [r.eventA, r.eventB]) {
        let target: string;
        try {
          target = readlinkSync(`/proc/self/fd/${fd}`);
        } catch {
          return -E.EBADF;
        }
        if (target !== 'anon_inode:[eventfd]') return -E.EINVAL;
      }
      next = { eventA: dupFd(r.eventA), eventB: dupFd(r.eventB) };
    }
    this.#dropHandshake();
    this.#handshake = next;
    this.#addons = addons;
    return 0;
  }

  /** Lets go of the eventfd references; while a load runs (it may be polling them) only after it. */
  #dropHandshake(): void {
    const h = this.#handshake;
    if (h === undefined) return;
    this.#handshake = undefined;
    if (this.#busy) this.#retired.push(h);
    else closeHandshake(h);
  }

  /** The image in a slot (what /sys/kernel/kexec_loaded and kexec_crash_loaded report, with the details). */
  kimage(slot: KimageSlot = 'default'): Kimage | undefined {
    return this.#slots[slot];
  }

  /** kexec_file_load(2). Resolves to 0 or -errno. */
  async kexecFileLoad(a: KexecFileLoadArgs): Promise<number> {
    const flags = a.flags;
    if (!Number.isInteger(flags) || flags < 0 || (flags & ~KEXEC_FILE_FLAGS) !== 0) return -E.EINVAL;
    if (this.#busy) return -E.EBUSY; // kexec_trylock()
    this.#busy = true;
    const slot: KimageSlot = flags & KEXEC_FILE.ON_CRASH ? 'crash' : 'default';
    try {
      if (flags & KEXEC_FILE.UNLOAD) {
        this.#slots[slot] = undefined;
        this.#kexec('info', `${slot} image unloaded`);
        return 0;
      }
      // the crash kernel's reserved memory is reused: the old crash image goes first
      if (slot === 'crash') this.#slots.crash = undefined;
      const r = await this.#load(a, slot);
      if (typeof r === 'number') {
        this.#kexec('err', `kexec_file_load failed: ${r} (${errnoText(r)})`);
        return r;
      }
      this.#slots[slot] = r;
      this.#kexec('info', `${slot} image loaded: ${r.segments.length} segments, digest ${r.digest.slice(0, 16)}…`);
      return 0;
    } finally {
      this.#busy = false;
      for (const h of this.#retired.splice(0)) closeHandshake(h);
    }
  }

  async #load(a: KexecFileLoadArgs, type: KimageSlot): Promise<Kimage | number> {
    const k = readKernelFile(a.kernelFd);
    if ('errno' in k) return k.errno;
    this.#kexec('debug', `kernel: ${k.bytes.length} bytes`);
    const sig = validateSignature(
      k.bytes,
      this.sigPolicy,
      this.lockdown,
      this.keyrings,
      prefixed(this.log, 'PEFILE'),
      this.#kexec,
    );
    if (sig.errno !== 0) return sig.errno;
    let initrd: Uint8Array | undefined;
    if ((a.flags & KEXEC_FILE.NO_INITRAMFS) === 0) {
      const f = readKernelFile(a.initrdFd);
      if ('errno' in f) return f.errno;
      initrd = f.bytes;
    }
    const cmdline = cmdlineBytes(a.cmdline);
    if (cmdline !== undefined && cmdline[cmdline.length - 1] !== 0) return -E.EINVAL;
    const resources = new ResourceStore({
      kernel: k.bytes,
      ...(initrd ? { initrd } : {}),
      ...(cmdline ? { cmdline } : {}),
    });
    const d = await decompose({
      resources,
      bpf: this.bpfSys,
      procfs: this.procfs,
      handshake: this.#handshake,
      timeoutMs: this.handshakeTimeoutMs,
      addons: this.#addons,
      verifyAddon: authenticodeVerifier(this.keyrings.all),
      helperLog: this.log,
      log: this.#kexec,
    });
    if (d.errno !== 0) return d.errno;
    const kernel = resources.get('kernel');
    if (kernel === undefined || kernel.length === 0) return -E.ENOEXEC;
    const finalInitrd = nonEmpty(resources.get('initrd'));
    const finalCmdline = nonEmpty(resources.get('cmdline'));
    if (finalCmdline !== undefined && finalCmdline[finalCmdline.length - 1] !== 0) {
      this.#kexec('err', 'the command line the parser produced is not NUL-terminated');
      return -E.EINVAL;
    }
    const probe = probeImage(this.arch, kernel, (p) => prefixed(this.log, p));
    if (!('plan' in probe)) return probe.errno === 0 ? -E.ENOEXEC : probe.errno;
    const plan = probe.plan(finalInitrd, finalCmdline);
    if (typeof plan === 'number') return plan;
    const { segments, digest } = await placeSegments(plan, SEGMENT_BASE[this.arch]);
    return {
      type,
      arch: this.arch,
      loader: probe.loader,
      kernel,
      initrd: finalInitrd,
      cmdline: finalCmdline,
      segments,
      digest,
      kernelSha256: bufferDigest(kernel, plan, segments),
      initrdSha256: finalInitrd === undefined ? undefined : bufferDigest(finalInitrd, plan, segments),
      signature: sig.verdict,
      stages: d.stages,
    };
  }

  /** The fds the kernel holds now: its objects' and its references to the loader's eventfds. */
  heldFds(): number[] {
    const hs = [this.#handshake, ...this.#retired].flatMap((h) => (h ? [h.eventA, h.eventB] : []));
    return [...this.objects.fds, ...hs];
  }

  /** Registers a cleanup to run at shutdown (channel endpoints). */
  onShutdown(f: () => void): void {
    this.#onShutdown.push(f);
  }

  /** Releases every fd the kernel holds (objects, eventfd references) and closes its channels. */
  shutdown(): void {
    for (const f of this.#onShutdown.splice(0)) f();
    this.objects.releaseAll();
    this.bpfSys.detachAll();
    this.#dropHandshake();
    this.procfs.withdraw();
  }
}

const closeHandshake = (h: Handshake): void => {
  closeRawFd(h.eventA);
  closeRawFd(h.eventB);
};

const nonEmpty = (b: Uint8Array | undefined): Uint8Array | undefined =>
  b === undefined || b.length === 0 ? undefined : b;
