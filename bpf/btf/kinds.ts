/**
 * BTF wire constants (include/uapi/linux/btf.h): kinds, int encodings, linkages, record sizes.
 * Every BTF module reads these names; no numeric kind literal lives elsewhere.
 */

export const BTF_MAGIC = 0xeb9f;
export const BTF_VERSION = 1;
/** Bytes of `struct btf_header` (the minimum hdr_len). */
export const BTF_HEADER_BYTES = 24;
/** Bytes of `struct btf_type` (name_off, info, size/type). */
export const BTF_TYPE_BYTES = 12;
/** Largest valid type id (BTF_MAX_TYPE). */
export const BTF_MAX_TYPE = 0x000fffff;
export const BTF_MAX_VLEN = 0xffff;

/** Kind names in kind-number order (index = BTF_KIND_* value); 'UNKN' (0) is void. */
export const BTF_KIND_NAMES = [
  'UNKN',
  'INT',
  'PTR',
  'ARRAY',
  'STRUCT',
  'UNION',
  'ENUM',
  'FWD',
  'TYPEDEF',
  'VOLATILE',
  'CONST',
  'RESTRICT',
  'FUNC',
  'FUNC_PROTO',
  'VAR',
  'DATASEC',
  'FLOAT',
  'DECL_TAG',
  'TYPE_TAG',
  'ENUM64',
] as const;
export type BtfKindName = (typeof BTF_KIND_NAMES)[number];

/** Kind number of a kind name. */
export const kindNumber = (name: BtfKindName): number => BTF_KIND_NAMES.indexOf(name);

/** INT encoding bits (BTF_INT_ENCODING). */
export const BtfIntEncoding = { SIGNED: 1, CHAR: 2, BOOL: 4 } as const;

/** FUNC linkage (kept in the FUNC's vlen). */
export const BtfFuncLinkage = { STATIC: 0, GLOBAL: 1, EXTERN: 2 } as const;

/** VAR linkage. */
export const BtfVarLinkage = { STATIC: 0, GLOBAL_ALLOCATED: 1, GLOBAL_EXTERN: 2 } as const;

/** .BTF.ext record kinds of CO-RE relocations (enum bpf_core_relo_kind). */
export const CORE_RELO_KIND_NAMES = [
  'FIELD_BYTE_OFFSET',
  'FIELD_BYTE_SIZE',
  'FIELD_EXISTS',
  'FIELD_SIGNED',
  'FIELD_LSHIFT_U64',
  'FIELD_RSHIFT_U64',
  'TYPE_ID_LOCAL',
  'TYPE_ID_TARGET',
  'TYPE_EXISTS',
  'TYPE_SIZE',
  'ENUMVAL_EXISTS',
  'ENUMVAL_VALUE',
  'TYPE_MATCHES',
] as const;

/** .BTF.ext header: magic, version, flags, hdr_len, func/line info off+len; core relo off+len optional. */
export const BTF_EXT_HEADER_MIN = 24;
export const BTF_EXT_HEADER_CORE = 32;
/** Minimum record sizes of the .BTF.ext sub-sections (rec_size may be larger; extra bytes are skipped). */
export const FUNC_INFO_BYTES = 8;
export const LINE_INFO_BYTES = 16;
export const CORE_RELO_BYTES = 16;
/** line_col packs line << 10 | column. */
export const LINE_COL_BITS = 10;
