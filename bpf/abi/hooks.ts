/**
 * The kernel functions a parser program attaches to. For fentry programs the context is the hooked
 * function's argument array: argument i is the u64 at ctx offset 8*i (libbpf's BPF_PROG() macro).
 * fentry programs must return 0.
 */

export interface HookArg {
  readonly name: string;
  /** C type as in the kernel's declaration */
  readonly cType: string;
  /** Byte offset in the fentry context (8 * index) */
  readonly ctxOffset: number;
  /** What the verifier gives the program when it loads the slot */
  readonly regType: 'PTR_TO_BTF_ID | PTR_TRUSTED' | 'SCALAR_VALUE';
  readonly description: string;
}

export interface Hook {
  readonly name: string;
  readonly abi: 'rfc' | 'v6';
  /** The C declaration of the hooked kernel function */
  readonly decl: string;
  /** The SEC() name a program uses */
  readonly section: string;
  readonly sleepable: boolean;
  readonly args: readonly HookArg[];
}

const arg = (index: number, name: string, cType: string, regType: HookArg['regType'], description: string) =>
  Object.freeze({ name, cType, ctxOffset: index * 8, regType, description });

/**
 * Our RFC ABI's hook. Registered like v6's anchor (a KF_SLEEPABLE fmodret id set) so that sleepable
 * fentry programs may attach: the three proposed helpers may sleep (vmalloc, decompression, PKCS#7).
 */
export const KEXEC_PE_PARSER_HOOK: Hook = Object.freeze({
  name: 'kexec_pe_parser_hook',
  abi: 'rfc',
  decl: 'void kexec_pe_parser_hook(struct kimage *image, unsigned int depth)',
  section: 'fentry.s/kexec_pe_parser_hook',
  sleepable: true,
  args: Object.freeze([
    arg(0, 'image', 'struct kimage *', 'PTR_TO_BTF_ID | PTR_TRUSTED', 'the kimage being loaded; opaque to programs'),
    arg(
      1,
      'depth',
      'unsigned int',
      'SCALAR_VALUE',
      'nesting level of the PE being parsed: 0 for the file passed to kexec_file_load, 1 for a PE found inside it, ...',
    ),
  ]),
});

/** The v6/v7 series' anchor; `parser_id` is turned into a context by bpf_get_parser_context(). */
export const KEXEC_IMAGE_PARSER_ANCHOR: Hook = Object.freeze({
  name: 'kexec_image_parser_anchor',
  abi: 'v6',
  decl: 'void kexec_image_parser_anchor(struct kexec_context *context, unsigned long parser_id)',
  section: 'fentry.s/kexec_image_parser_anchor',
  sleepable: true,
  args: Object.freeze([
    arg(0, 'context', 'struct kexec_context *', 'PTR_TO_BTF_ID | PTR_TRUSTED', 'kernel/initrd/cmdline of this stage'),
    arg(1, 'parser_id', 'unsigned long', 'SCALAR_VALUE', 'handle of the bpf_parser_context for this stage'),
  ]),
});

export const HOOKS: readonly Hook[] = Object.freeze([KEXEC_PE_PARSER_HOOK, KEXEC_IMAGE_PARSER_ANCHOR]);

/** Deepest PE nesting the simulated kernel follows (UKI → zboot → Image is depth 2). */
export const KEXEC_MAX_DEPTH = 4;

export const hookByName = (name: string): Hook | undefined => HOOKS.find((h) => h.name === name);

/** The PE section that carries the parser program (a BPF ELF object) inside a signed image. */
export const BPF_SECTION_NAME = '.bpf';
