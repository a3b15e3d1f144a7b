/**
 * C struct layouts for the ABI's shared structures, computed the way clang lays them out for LP64
 * targets (x86_64, arm64 and `-target bpf` agree): natural alignment unless packed.
 */

export const C_SCALARS = {
  bool: 1,
  char: 1,
  __u8: 1,
  __u16: 2,
  __u32: 4,
  __s32: 4,
  int: 4,
  __u64: 8,
  __s64: 8,
  'unsigned long': 8,
  pointer: 8,
} as const;
export type CScalar = keyof typeof C_SCALARS;

export interface FieldSpec {
  readonly name: string;
  readonly type: CScalar;
  /** Array length for `type name[count]`. */
  readonly count?: number;
  /** Pointee type, for documentation and the C rendering of `pointer` fields (`char *kernel`). */
  readonly pointee?: string;
}

export interface Field extends FieldSpec {
  readonly offset: number;
  readonly size: number;
}

export interface StructLayout {
  readonly name: string;
  readonly packed: boolean;
  readonly size: number;
  readonly align: number;
  readonly fields: readonly Field[];
}

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

export const layoutStruct = (name: string, specs: readonly FieldSpec[], packed = false): StructLayout => {
  let offset = 0;
  let align = 1;
  const fields = specs.map((f) => {
    const elem = C_SCALARS[f.type];
    const a = packed ? 1 : elem;
    offset = alignUp(offset, a);
    align = Math.max(align, a);
    const field: Field = Object.freeze({ ...f, offset, size: elem * (f.count ?? 1) });
    offset += field.size;
    return field;
  });
  return Object.freeze({ name, packed, size: alignUp(offset, align), align, fields: Object.freeze(fields) });
};

export const fieldOf = (s: StructLayout, name: string): Field => {
  const f = s.fields.find((x) => x.name === name);
  if (f === undefined) throw new Error(`struct ${s.name} has no field ${name}`);
  return f;
};

/** The struct as a C declaration (used by docs and by the clang cross-check test). */
export const toC = (s: StructLayout): string => {
  const lines = s.fields.map((f) => {
    const type = f.type === 'pointer' ? `${f.pointee ?? 'void'} *` : `${f.type} `;
    return `\t${type}${f.name}${f.count === undefined ? '' : `[${f.count}]`};`;
  });
  return `struct ${s.name} {\n${lines.join('\n')}\n}${s.packed ? ' __attribute__((packed))' : ''};`;
};
