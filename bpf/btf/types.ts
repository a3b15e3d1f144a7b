/**
 * The BTF type model. Names are strings (the string table is an encoding detail); ids index
 * `Btf.types` directly, and `types[0]` is the implicit void type.
 */

export interface BtfVoid {
  readonly kind: 'UNKN';
  readonly name: '';
}
export interface BtfInt {
  readonly kind: 'INT';
  readonly name: string;
  readonly size: number;
  /** BtfIntEncoding bits (SIGNED | CHAR | BOOL). */
  readonly encoding: number;
  readonly bitsOffset: number;
  readonly bits: number;
}
/** PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG: a name and the type they refer to. */
export interface BtfRef {
  readonly kind: 'PTR' | 'TYPEDEF' | 'VOLATILE' | 'CONST' | 'RESTRICT' | 'TYPE_TAG';
  readonly name: string;
  readonly type: number;
}
export interface BtfArray {
  readonly kind: 'ARRAY';
  readonly name: string;
  readonly type: number;
  readonly indexType: number;
  readonly nelems: number;
}
export interface BtfMember {
  readonly name: string;
  readonly type: number;
  readonly bitOffset: number;
  /** Non-zero only for bitfields (needs kflag). */
  readonly bitfieldSize: number;
}
export interface BtfComposite {
  readonly kind: 'STRUCT' | 'UNION';
  readonly name: string;
  readonly size: number;
  /** kind_flag: member offsets carry bitfield sizes. */
  readonly kflag: boolean;
  readonly members: readonly BtfMember[];
}
export interface BtfEnum {
  readonly kind: 'ENUM';
  readonly name: string;
  readonly size: number;
  readonly signed: boolean;
  /** s32 when signed, else u32. */
  readonly values: readonly { readonly name: string; readonly value: number }[];
}
export interface BtfEnum64 {
  readonly kind: 'ENUM64';
  readonly name: string;
  readonly size: number;
  readonly signed: boolean;
  /** s64 when signed, else u64. */
  readonly values: readonly { readonly name: string; readonly value: bigint }[];
}
export interface BtfFwd {
  readonly kind: 'FWD';
  readonly name: string;
  readonly union: boolean;
}
export interface BtfFunc {
  readonly kind: 'FUNC';
  readonly name: string;
  /** The FUNC_PROTO. */
  readonly type: number;
  /** BtfFuncLinkage. */
  readonly linkage: number;
}
export interface BtfFuncProto {
  readonly kind: 'FUNC_PROTO';
  readonly name: string;
  readonly returnType: number;
  /** A last param with name '' and type 0 marks varargs. */
  readonly params: readonly { readonly name: string; readonly type: number }[];
}
export interface BtfVar {
  readonly kind: 'VAR';
  readonly name: string;
  readonly type: number;
  /** BtfVarLinkage. */
  readonly linkage: number;
}
export interface BtfVarSecinfo {
  readonly type: number;
  readonly offset: number;
  readonly size: number;
}
export interface BtfDatasec {
  readonly kind: 'DATASEC';
  readonly name: string;
  /** clang leaves 0 here (libbpf fills it from the ELF section); our writer puts the real size. */
  readonly size: number;
  readonly vars: readonly BtfVarSecinfo[];
}
export interface BtfFloat {
  readonly kind: 'FLOAT';
  readonly name: string;
  readonly size: number;
}
export interface BtfDeclTag {
  readonly kind: 'DECL_TAG';
  readonly name: string;
  readonly type: number;
  /** -1 tags the type itself, else the member / parameter index. */
  readonly componentIdx: number;
}

export type BtfType =
  | BtfVoid
  | BtfInt
  | BtfRef
  | BtfArray
  | BtfComposite
  | BtfEnum
  | BtfEnum64
  | BtfFwd
  | BtfFunc
  | BtfFuncProto
  | BtfVar
  | BtfDatasec
  | BtfFloat
  | BtfDeclTag;

export const VOID: BtfVoid = Object.freeze({ kind: 'UNKN', name: '' });

/** A BTF blob: `types[id]`, with `types[0]` = void. */
export interface Btf {
  readonly types: readonly BtfType[];
}

/** What `decodeBtf` also reports about the layout it read. */
export interface DecodedBtf extends Btf {
  /** Byte offset, inside the .BTF section, of each type record (index = id; 0 for void). */
  readonly recordOffsets: readonly number[];
  readonly order: 'le' | 'be';
  /** The string at a string-section offset (for .BTF.ext); throws BtfError at `at` when out of range. */
  readonly stringAt: (off: number, at: number) => string;
}

/** The type ids a type refers to (members, params, elements, ...), in record order. */
export const referencedIds = (t: BtfType): number[] => {
  switch (t.kind) {
    case 'PTR':
    case 'TYPEDEF':
    case 'VOLATILE':
    case 'CONST':
    case 'RESTRICT':
    case 'TYPE_TAG':
    case 'FUNC':
    case 'VAR':
    case 'DECL_TAG':
      return [t.type];
    case 'ARRAY':
      return [t.type, t.indexType];
    case 'STRUCT':
    case 'UNION':
      return t.members.map((m) => m.type);
    case 'FUNC_PROTO':
      return [t.returnType, ...t.params.map((p) => p.type)];
    case 'DATASEC':
      return t.vars.map((v) => v.type);
    default:
      return [];
  }
};
