/**
 * Rows of a uapi enum (map types, program types, attach types): the kernel's name, its numeric value,
 * libbpf's short string (`libbpf_bpf_*_type_str()`, what bpftool prints), other spellings of the same
 * value, and — for values added after Linux 6.18 — the release that added them.
 */
export interface EnumRow<N extends string = string> {
  readonly id: number;
  readonly name: N;
  readonly short: string;
  readonly aliases?: readonly string[];
  /** Kernel release (or bpf-next date) that introduced the value; absent for values in Linux 6.18. */
  readonly since?: string;
}

export interface EnumLookup<R extends EnumRow> {
  readonly rows: readonly R[];
  byId(id: number): R | undefined;
  /** By kernel name, alias or libbpf short name. */
  byName(name: string): R | undefined;
}

export const enumLookup = <R extends EnumRow>(rows: readonly R[]): EnumLookup<R> => {
  const ids = new Map<number, R>();
  const names = new Map<string, R>();
  for (const r of rows) {
    if (ids.has(r.id)) throw new Error(`enum table: duplicate id ${r.id} (${r.name})`);
    ids.set(r.id, r);
    for (const n of [r.name, r.short, ...(r.aliases ?? [])]) {
      const prev = names.get(n);
      if (prev !== undefined && prev !== r) throw new Error(`enum table: name ${n} names ${prev.name} and ${r.name}`);
      names.set(n, r);
    }
  }
  return { rows, byId: (id) => ids.get(id), byName: (name) => names.get(name) };
};
