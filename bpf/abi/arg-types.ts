/**
 * The verifier's vocabulary for helper prototypes: `enum bpf_arg_type`, `enum bpf_return_type` and the
 * `enum bpf_type_flag` modifiers of include/linux/bpf.h, as in Linux 6.18. These are kernel-internal
 * enums, so only the names are reproduced (their numeric values are not ABI and appear in no log).
 *
 * A prototype argument is written the way the kernel writes it: a base or alias name plus extra flags,
 * e.g. `ARG_PTR_TO_MEM | MEM_RDONLY` is `argType('ARG_PTR_TO_MEM', 'MEM_RDONLY')`. `resolveArg` expands
 * aliases (ARG_PTR_TO_UNINIT_MEM = ARG_PTR_TO_MEM | MEM_UNINIT | MEM_WRITE) into base + flag set, which
 * is what the verifier dispatches on (`base_type()` / `type_flag()`).
 *
 * Later kernels rename ARG_CONST_SIZE{,_OR_ZERO} to ARG_MEM_SIZE{,_OR_ZERO}; we keep the 6.18 names.
 */

export const TYPE_FLAGS = [
  'PTR_MAYBE_NULL',
  'MEM_RDONLY',
  'MEM_RINGBUF',
  'MEM_USER',
  'MEM_PERCPU',
  'OBJ_RELEASE',
  'PTR_UNTRUSTED',
  'MEM_UNINIT',
  'DYNPTR_TYPE_LOCAL',
  'DYNPTR_TYPE_RINGBUF',
  'MEM_FIXED_SIZE',
  'MEM_ALLOC',
  'PTR_TRUSTED',
  'MEM_RCU',
  'NON_OWN_REF',
  'DYNPTR_TYPE_SKB',
  'DYNPTR_TYPE_XDP',
  'MEM_ALIGNED',
  'MEM_WRITE',
  'DYNPTR_TYPE_SKB_META',
] as const;
export type TypeFlag = (typeof TYPE_FLAGS)[number];

export const ARG_BASE_TYPES = [
  'ARG_DONTCARE',
  'ARG_CONST_MAP_PTR',
  'ARG_PTR_TO_MAP_KEY',
  'ARG_PTR_TO_MAP_VALUE',
  'ARG_PTR_TO_MEM',
  'ARG_PTR_TO_ARENA',
  'ARG_CONST_SIZE',
  'ARG_CONST_SIZE_OR_ZERO',
  'ARG_PTR_TO_CTX',
  'ARG_ANYTHING',
  'ARG_PTR_TO_SPIN_LOCK',
  'ARG_PTR_TO_SOCK_COMMON',
  'ARG_PTR_TO_SOCKET',
  'ARG_PTR_TO_BTF_ID',
  'ARG_PTR_TO_RINGBUF_MEM',
  'ARG_CONST_ALLOC_SIZE_OR_ZERO',
  'ARG_PTR_TO_BTF_ID_SOCK_COMMON',
  'ARG_PTR_TO_PERCPU_BTF_ID',
  'ARG_PTR_TO_FUNC',
  'ARG_PTR_TO_STACK',
  'ARG_PTR_TO_CONST_STR',
  'ARG_PTR_TO_TIMER',
  'ARG_KPTR_XCHG_DEST',
  'ARG_PTR_TO_DYNPTR',
] as const;
export type ArgBase = (typeof ARG_BASE_TYPES)[number];

interface Composite<B> {
  readonly base: B;
  readonly flags: readonly TypeFlag[];
}

/** The "extended arg_types" of enum bpf_arg_type. */
export const ARG_ALIASES = {
  ARG_PTR_TO_MAP_VALUE_OR_NULL: { base: 'ARG_PTR_TO_MAP_VALUE', flags: ['PTR_MAYBE_NULL'] },
  ARG_PTR_TO_MEM_OR_NULL: { base: 'ARG_PTR_TO_MEM', flags: ['PTR_MAYBE_NULL'] },
  ARG_PTR_TO_CTX_OR_NULL: { base: 'ARG_PTR_TO_CTX', flags: ['PTR_MAYBE_NULL'] },
  ARG_PTR_TO_SOCKET_OR_NULL: { base: 'ARG_PTR_TO_SOCKET', flags: ['PTR_MAYBE_NULL'] },
  ARG_PTR_TO_STACK_OR_NULL: { base: 'ARG_PTR_TO_STACK', flags: ['PTR_MAYBE_NULL'] },
  ARG_PTR_TO_BTF_ID_OR_NULL: { base: 'ARG_PTR_TO_BTF_ID', flags: ['PTR_MAYBE_NULL'] },
  /** The helper fills every byte (or clears them on error), so uninitialised stack is accepted. */
  ARG_PTR_TO_UNINIT_MEM: { base: 'ARG_PTR_TO_MEM', flags: ['MEM_UNINIT', 'MEM_WRITE'] },
  ARG_PTR_TO_FIXED_SIZE_MEM: { base: 'ARG_PTR_TO_MEM', flags: ['MEM_FIXED_SIZE'] },
} as const satisfies Record<string, Composite<ArgBase>>;
export type ArgAlias = keyof typeof ARG_ALIASES;
export type ArgTypeName = ArgBase | ArgAlias;

export const RET_BASE_TYPES = [
  'RET_INTEGER',
  'RET_VOID',
  'RET_PTR_TO_MAP_VALUE',
  'RET_PTR_TO_SOCKET',
  'RET_PTR_TO_TCP_SOCK',
  'RET_PTR_TO_SOCK_COMMON',
  'RET_PTR_TO_MEM',
  'RET_PTR_TO_MEM_OR_BTF_ID',
  'RET_PTR_TO_BTF_ID',
] as const;
export type RetBase = (typeof RET_BASE_TYPES)[number];

export const RET_ALIASES = {
  RET_PTR_TO_MAP_VALUE_OR_NULL: { base: 'RET_PTR_TO_MAP_VALUE', flags: ['PTR_MAYBE_NULL'] },
  RET_PTR_TO_SOCKET_OR_NULL: { base: 'RET_PTR_TO_SOCKET', flags: ['PTR_MAYBE_NULL'] },
  RET_PTR_TO_TCP_SOCK_OR_NULL: { base: 'RET_PTR_TO_TCP_SOCK', flags: ['PTR_MAYBE_NULL'] },
  RET_PTR_TO_SOCK_COMMON_OR_NULL: { base: 'RET_PTR_TO_SOCK_COMMON', flags: ['PTR_MAYBE_NULL'] },
  RET_PTR_TO_RINGBUF_MEM_OR_NULL: { base: 'RET_PTR_TO_MEM', flags: ['PTR_MAYBE_NULL', 'MEM_RINGBUF'] },
  RET_PTR_TO_DYNPTR_MEM_OR_NULL: { base: 'RET_PTR_TO_MEM', flags: ['PTR_MAYBE_NULL'] },
  RET_PTR_TO_BTF_ID_OR_NULL: { base: 'RET_PTR_TO_BTF_ID', flags: ['PTR_MAYBE_NULL'] },
  RET_PTR_TO_BTF_ID_TRUSTED: { base: 'RET_PTR_TO_BTF_ID', flags: ['PTR_TRUSTED'] },
} as const satisfies Record<string, Composite<RetBase>>;
export type RetAlias = keyof typeof RET_ALIASES;
export type RetTypeName = RetBase | RetAlias;

/** One argument type as spelled in a `struct bpf_func_proto` initialiser. */
export interface ArgType {
  readonly name: ArgTypeName;
  readonly extra: readonly TypeFlag[];
}

export interface RetType {
  readonly name: RetTypeName;
  readonly extra: readonly TypeFlag[];
}

export const argType = (name: ArgTypeName, ...extra: TypeFlag[]): ArgType => Object.freeze({ name, extra });
export const retType = (name: RetTypeName, ...extra: TypeFlag[]): RetType => Object.freeze({ name, extra });

/** Base type and complete flag set, aliases expanded. */
export interface Resolved<B> {
  readonly base: B;
  readonly flags: ReadonlySet<TypeFlag>;
}

const isArgAlias = (n: ArgTypeName): n is ArgAlias => Object.hasOwn(ARG_ALIASES, n);
const isRetAlias = (n: RetTypeName): n is RetAlias => Object.hasOwn(RET_ALIASES, n);

export const resolveArg = (t: ArgType): Resolved<ArgBase> => {
  const alias = isArgAlias(t.name) ? ARG_ALIASES[t.name] : undefined;
  const base: ArgBase = alias ? alias.base : (t.name as ArgBase);
  return { base, flags: new Set<TypeFlag>([...(alias?.flags ?? []), ...t.extra]) };
};

export const resolveRet = (t: RetType): Resolved<RetBase> => {
  const alias = isRetAlias(t.name) ? RET_ALIASES[t.name] : undefined;
  const base: RetBase = alias ? alias.base : (t.name as RetBase);
  return { base, flags: new Set<TypeFlag>([...(alias?.flags ?? []), ...t.extra]) };
};

/** Kernel spelling: `ARG_PTR_TO_MEM | MEM_RDONLY`. */
export const formatType = (t: ArgType | RetType): string => [t.name, ...t.extra].join(' | ');

/** The size kinds that must directly follow a memory argument (`arg_type_is_mem_size()`). */
export const isMemSizeArg = (t: ArgType): boolean => {
  const b = resolveArg(t).base;
  return b === 'ARG_CONST_SIZE' || b === 'ARG_CONST_SIZE_OR_ZERO';
};

/** Memory arguments whose size comes from the next argument (not a fixed-size or map/ringbuf one). */
export const isSizedMemArg = (t: ArgType): boolean => {
  const r = resolveArg(t);
  return r.base === 'ARG_PTR_TO_MEM' && !r.flags.has('MEM_FIXED_SIZE');
};
