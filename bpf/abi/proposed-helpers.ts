/**
 * The proposal's three helpers, prototyped the way Linux prototypes its own (semantics and errors in
 * docs/ABI.md). All three allocate, decompress or verify signatures, so they may sleep: only sleepable
 * programs attached to kexec_pe_parser_hook may call them, and they are GPL-only like the other
 * helpers that reach into kernel internals.
 */
import { argType as a, retType as r } from './arg-types.ts';
import { PROPOSED_HELPER_IDS } from './helper-ids.ts';
import { type HelperProto, proto } from './helper-proto.ts';
import { KEXEC_PE_PARSER_HOOK } from './hooks.ts';

const scope = { progTypes: 'kexec-hook', hooks: [KEXEC_PE_PARSER_HOOK.name] } as const;

export const PROPOSED_HELPER_PROTOS: readonly HelperProto[] = [
  proto({
    id: PROPOSED_HELPER_IDS.bpf_helper_carrier,
    name: 'bpf_helper_carrier',
    decl: 'long bpf_helper_carrier(const char *name, void *buf, u32 size, u64 dir)',
    ret: r('RET_INTEGER'),
    args: [
      // a constant string in .rodata: the verifier reads it at load time and rejects unknown names
      a('ARG_PTR_TO_CONST_STR'),
      // read for OUT, written for IN, so initialised and writable (as bpf_snprintf's str); NULL with
      // size 0 asks for the resource's length
      a('ARG_PTR_TO_MEM_OR_NULL', 'MEM_WRITE'),
      a('ARG_CONST_SIZE_OR_ZERO'),
      a('ARG_ANYTHING'),
    ],
    gplOnly: true,
    mightSleep: true,
    scope,
    origin: 'proposed',
  }),
  proto({
    id: PROPOSED_HELPER_IDS.bpf_helper_decompress,
    name: 'bpf_helper_decompress',
    decl: 'long bpf_helper_decompress(const void *src, u32 src_size, void *dst, u32 dst_size)',
    ret: r('RET_INTEGER'),
    args: [
      a('ARG_PTR_TO_MEM', 'MEM_RDONLY'),
      a('ARG_CONST_SIZE'),
      // every byte of dst is written (output, then zero fill), so uninitialised memory is fine
      a('ARG_PTR_TO_UNINIT_MEM'),
      a('ARG_CONST_SIZE'),
    ],
    gplOnly: true,
    mightSleep: true,
    scope,
    origin: 'proposed',
  }),
  proto({
    id: PROPOSED_HELPER_IDS.bpf_helper_supplement_initrd,
    name: 'bpf_helper_supplement_initrd',
    decl: 'long bpf_helper_supplement_initrd(const char *dst_dir, const char *addon, u32 addon_size)',
    ret: r('RET_INTEGER'),
    args: [
      a('ARG_PTR_TO_CONST_STR'),
      // addon names come from the loader-filled map at run time, so they cannot be load-time constants
      a('ARG_PTR_TO_MEM', 'MEM_RDONLY'),
      a('ARG_CONST_SIZE'),
    ],
    gplOnly: true,
    mightSleep: true,
    scope,
    origin: 'proposed',
  }),
];
