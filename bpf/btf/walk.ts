/** Walks over a Btf: skipping modifiers, sizes. Bounded by the type count, so never loops. */
import { BtfError } from './errors.ts';
import type { Btf, BtfType } from './types.ts';

const TRANSPARENT = new Set(['TYPEDEF', 'CONST', 'VOLATILE', 'RESTRICT', 'TYPE_TAG']);

/** Pointer size of the BPF target. */
export const BTF_PTR_SIZE = 8;

/** The type at an id, or a BtfError when the id is out of range. */
export const typeAt = (btf: Btf, id: number): BtfType => {
  const t = btf.types[id];
  if (t === undefined)
    throw new BtfError('BTF_BAD_TYPE_ID', 0, `type id ${id} out of range (${btf.types.length - 1} types)`);
  return t;
};

/** Follows typedefs, const/volatile/restrict and type tags to the underlying type id. */
export const skipModifiers = (btf: Btf, id: number): number => {
  for (let steps = 0; steps <= btf.types.length; steps++) {
    const t = typeAt(btf, id);
    if (!TRANSPARENT.has(t.kind)) return id;
    id = (t as { type: number }).type;
  }
  throw new BtfError('BTF_LOOP', 0, `modifier chain from type [${id}] loops`);
};

/** Byte size of a type, or undefined for types without one (void, functions, forward declarations). */
export const sizeOf = (btf: Btf, id: number): number | undefined => {
  let factor = 1;
  for (let steps = 0; steps <= btf.types.length; steps++) {
    const t = typeAt(btf, skipModifiers(btf, id));
    switch (t.kind) {
      case 'INT':
      case 'ENUM':
      case 'ENUM64':
      case 'STRUCT':
      case 'UNION':
      case 'FLOAT':
      case 'DATASEC':
        return factor * t.size;
      case 'PTR':
        return factor * BTF_PTR_SIZE;
      case 'ARRAY':
        factor *= t.nelems;
        id = t.type;
        break;
      case 'VAR':
        id = t.type;
        break;
      default:
        return undefined;
    }
  }
  throw new BtfError('BTF_LOOP', 0, `array/var chain from type [${id}] loops`);
};

/** Ids of the types of one kind with one name (e.g. the DATASEC '.maps'). */
export const findTypes = (btf: Btf, kind: BtfType['kind'], name: string): number[] => {
  const ids: number[] = [];
  btf.types.forEach((t, id) => {
    if (t.kind === kind && t.name === name) ids.push(id);
  });
  return ids;
};
