/**
 * The boot resources the proposed helpers move: the kernel, initrd and cmdline buffers of the image being
 * loaded (bpf/abi BOOT_RESOURCES). The simulated kernel owns them; the helpers see this interface.
 */
import { BOOT_RESOURCES, type BootResourceName } from '../../bpf/abi/index.ts';

export interface KexecResources {
  /** The resource's bytes, or undefined when it does not exist (e.g. no initrd was given). */
  get(name: BootResourceName): Uint8Array | undefined;
  /** Replaces the resource (the store keeps `bytes`; callers pass a copy they give away). */
  set(name: BootResourceName, bytes: Uint8Array): void;
  /** Adds a copy of `bytes` at the resource's end (creating it when absent). */
  append(name: BootResourceName, bytes: Uint8Array): void;
}

/** A plain store; records which resources a program replaced (the kexec_bpf_result flags). */
export class ResourceStore implements KexecResources {
  readonly #items = new Map<BootResourceName, Uint8Array>();
  /** Per resource built by appends: the block its bytes are the start of, with room to grow. */
  readonly #blocks = new Map<BootResourceName, Uint8Array>();
  readonly replaced = new Set<BootResourceName>();

  /** Keeps the initial buffers as they are (no copy: the store never writes into a buffer it was given). */
  constructor(initial: Partial<Record<BootResourceName, Uint8Array>> = {}) {
    for (const r of BOOT_RESOURCES) {
      const b = initial[r.name];
      if (b !== undefined) this.#items.set(r.name, b);
    }
  }

  get(name: BootResourceName): Uint8Array | undefined {
    return this.#items.get(name);
  }

  set(name: BootResourceName, bytes: Uint8Array): void {
    this.#items.set(name, bytes);
    this.#blocks.delete(name);
    this.replaced.add(name);
  }

  /**
   * Appends in place while the block has room, else moves to a block half as large again: an initrd built by
   * a program's APPENDs of pieces is copied O(n) times in all, not once per piece. Each append stores a
   * new view, so what `get` returned before keeps its bytes (nothing is written below its end).
   */
  append(name: BootResourceName, bytes: Uint8Array): void {
    const cur = this.#items.get(name) ?? new Uint8Array(0);
    const total = cur.length + bytes.length;
    let block = this.#blocks.get(name);
    if (block === undefined || block.length < total) {
      block = new Uint8Array(Math.max(total, Math.floor(cur.length * 1.5)));
      block.set(cur);
      this.#blocks.set(name, block);
    }
    block.set(bytes, cur.length);
    this.#items.set(name, block.subarray(0, total));
    this.replaced.add(name);
  }
}
