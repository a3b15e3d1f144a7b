/**
 * BTF-defined maps, the libbpf convention: a map is a global struct VAR in `.maps` whose members
 * encode attributes. `__uint(name, N)` is a member `int (*name)[N]` (a pointer to an array whose
 * element count is the value); `__type(name, T)` is `T *name`; `__array(values, struct inner)` is a
 * zero-length array of pointers to the inner map's definition.
 */
import type { BtfBuilder } from '../btf/builder.ts';
import { BtfError } from '../btf/errors.ts';
import type { Btf, BtfMember } from '../btf/types.ts';
import { sizeOf, skipModifiers, typeAt } from '../btf/walk.ts';
import type { BpfMapDef } from './object.ts';

/** The integer attributes libbpf reads, by member name. */
export const MAP_INT_FIELDS = [
  'type',
  'max_entries',
  'map_flags',
  'numa_node',
  'key_size',
  'value_size',
  'pinning',
  'map_extra',
] as const;
type IntField = (typeof MAP_INT_FIELDS)[number];

/** Problem with a map definition, at a BTF type id (the reader turns it into an ElfError). */
export class MapDefError extends Error {
  readonly typeId: number;
  constructor(typeId: number, message: string) {
    super(message);
    this.typeId = typeId;
  }
}

const intField = (btf: Btf, map: string, m: BtfMember): number => {
  const ptr = typeAt(btf, skipModifiers(btf, m.type));
  if (ptr.kind !== 'PTR')
    throw new MapDefError(m.type, `map '${map}': attr '${m.name}': expected PTR, got ${ptr.kind}`);
  const arr = typeAt(btf, skipModifiers(btf, ptr.type));
  if (arr.kind !== 'ARRAY')
    throw new MapDefError(ptr.type, `map '${map}': attr '${m.name}': expected ARRAY, got ${arr.kind}`);
  return arr.nelems;
};

const typeField = (btf: Btf, map: string, m: BtfMember): { id: number; size: number } => {
  const ptr = typeAt(btf, skipModifiers(btf, m.type));
  if (ptr.kind !== 'PTR') throw new MapDefError(m.type, `map '${map}': ${m.name} spec is not PTR: ${ptr.kind}`);
  const size = sizeOf(btf, ptr.type);
  if (size === undefined)
    throw new MapDefError(ptr.type, `map '${map}': can't determine ${m.name} size for type [${ptr.type}]`);
  return { id: ptr.type, size };
};

/** Reads the definition struct `structId` of map `map` (libbpf's parse_btf_map_def). */
export const decodeMapDef = (btf: Btf, map: string, structId: number, depth = 0): BpfMapDef => {
  const def = typeAt(btf, skipModifiers(btf, structId));
  if (def.kind !== 'STRUCT') throw new MapDefError(structId, `map '${map}': unexpected def kind ${def.kind}`);
  const ints: Partial<Record<IntField, number>> = {};
  let key: { id: number; size: number } | undefined;
  let value: { id: number; size: number } | undefined;
  let inner: BpfMapDef | undefined;
  for (const m of def.members) {
    if ((MAP_INT_FIELDS as readonly string[]).includes(m.name)) {
      ints[m.name as IntField] = intField(btf, map, m);
    } else if (m.name === 'key') {
      key = typeField(btf, map, m);
    } else if (m.name === 'value') {
      value = typeField(btf, map, m);
    } else if (m.name === 'values') {
      const arr = typeAt(btf, skipModifiers(btf, m.type));
      if (arr.kind !== 'ARRAY' || arr.nelems !== 0) {
        throw new MapDefError(m.type, `map '${map}': 'values' must be a zero-sized array`);
      }
      const ptr = typeAt(btf, skipModifiers(btf, arr.type));
      if (ptr.kind !== 'PTR') throw new MapDefError(arr.type, `map '${map}': 'values' elements must be pointers`);
      const target = typeAt(btf, skipModifiers(btf, ptr.type));
      if (target.kind === 'STRUCT') {
        if (depth > 0) throw new MapDefError(ptr.type, `map '${map}': inner maps cannot hold maps`);
        inner = decodeMapDef(btf, `${map}.inner`, ptr.type, depth + 1);
      } else if (target.kind !== 'FUNC_PROTO') {
        throw new MapDefError(ptr.type, `map '${map}': 'values' must point to a map definition or a function`);
      }
    } else {
      throw new MapDefError(structId, `map '${map}': unknown field '${m.name}'`);
    }
  }
  const sized = (field: 'key_size' | 'value_size', t: { size: number } | undefined): number => {
    const n = ints[field];
    if (n !== undefined && t !== undefined && n !== t.size) {
      throw new MapDefError(structId, `map '${map}': conflicting ${field.replace('_', ' ')} ${n} != ${t.size}`);
    }
    return n ?? t?.size ?? 0;
  };
  return {
    type: ints.type ?? 0,
    keySize: sized('key_size', key),
    valueSize: sized('value_size', value),
    maxEntries: ints.max_entries ?? 0,
    flags: ints.map_flags ?? 0,
    keyType: key?.id,
    valueType: value?.id,
    pinning: ints.pinning ?? 0,
    mapExtra: ints.map_extra ?? 0,
    numaNode: ints.numa_node ?? 0,
    inner,
  };
};

/** A map definition to encode: sizes, or BTF type ids (in the builder's Btf) for key and value. */
export interface MapDefSpec {
  readonly type: number;
  readonly maxEntries: number;
  readonly flags?: number;
  readonly keySize?: number;
  readonly valueSize?: number;
  readonly keyType?: number;
  readonly valueType?: number;
  readonly pinning?: number;
  readonly mapExtra?: number;
  readonly numaNode?: number;
}

/**
 * Adds the anonymous definition struct of a map to a builder, as clang emits it for
 * `__uint(type, ...)`, `__uint(max_entries, ...)`, ... (members in that order, 8 bytes each).
 * Returns the struct id and its size.
 */
export const encodeMapDef = (b: BtfBuilder, def: MapDefSpec): { id: number; size: number } => {
  const int = b.int('int', 4, true);
  const members: BtfMember[] = [];
  const push = (name: string, type: number): void => {
    members.push({ name, type, bitOffset: members.length * 64, bitfieldSize: 0 });
  };
  const uint = (name: string, n: number | undefined): void => {
    if (n === undefined || (n === 0 && name !== 'type')) return;
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff)
      throw new BtfError('BTF_UNENCODABLE', 0, `map attr ${name} = ${n}`);
    push(name, b.ptr(b.array(int, n)));
  };
  uint('type', def.type);
  uint('max_entries', def.maxEntries);
  uint('map_flags', def.flags);
  uint('numa_node', def.numaNode);
  uint('pinning', def.pinning);
  uint('map_extra', def.mapExtra);
  if (def.keyType !== undefined) push('key', b.ptr(def.keyType));
  else uint('key_size', def.keySize);
  if (def.valueType !== undefined) push('value', b.ptr(def.valueType));
  else uint('value_size', def.valueSize);
  const size = members.length * 8;
  return { id: b.struct('', size, members), size };
};
