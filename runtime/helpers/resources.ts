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
}

/** A plain store; records which resources a program replaced (the kexec_bpf_result flags). */
export class ResourceStore implements KexecResources {
  readonly #items = new Map<BootResourceName, Uint8Array>();
  readonly replaced = new Set<BootResourceName>();

  constructor(initial: Partial<Record<BootResourceName, Uint8Array>> = {}) {
    for (const r of BOOT_RESOURCES) {
      const b = initial[r.name];
      if (b !== undefined) this.#items.set(r.name, b.slice());
    }
  }

  get(name: BootResourceName): Uint8Array | undefined {
    return this.#items.get(name);
  }

  set(name: BootResourceName, bytes: Uint8Array): void {
    this.#items.set(name, bytes);
    this.replaced.add(name);
  }
}
