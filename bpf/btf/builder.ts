/**
 * Builds a Btf type by type, reusing identical types (so `int`, `__ARRAY_SIZE_TYPE__` and the
 * pointer-to-array encodings of map definitions appear once).
 */
import { BtfFuncLinkage, BtfIntEncoding, BtfVarLinkage } from './kinds.ts';
import { type Btf, type BtfMember, type BtfType, type BtfVarSecinfo, VOID } from './types.ts';

const keyOf = (t: BtfType): string => JSON.stringify(t, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));

export class BtfBuilder {
  private readonly types: BtfType[] = [VOID];
  private readonly known = new Map<string, number>();

  /** Adds a type (or finds the identical one) and returns its id. */
  add(t: BtfType): number {
    const key = keyOf(t);
    const hit = this.known.get(key);
    if (hit !== undefined) return hit;
    this.types.push(t);
    const id = this.types.length - 1;
    this.known.set(key, id);
    return id;
  }

  /** Adds a type that must not be merged with an equal one (a struct whose members are filled later, a VAR). */
  addUnique(t: BtfType): number {
    this.types.push(t);
    return this.types.length - 1;
  }

  /** Replaces a type added with addUnique (used to close recursive structs). */
  set(id: number, t: BtfType): void {
    this.types[id] = t;
  }

  int(name: string, size: number, signed = false): number {
    const encoding = signed ? BtfIntEncoding.SIGNED : 0;
    return this.add({ kind: 'INT', name, size, encoding, bitsOffset: 0, bits: size * 8 });
  }

  /** The index type clang uses for every array. */
  arrayIndex(): number {
    return this.add({ kind: 'INT', name: '__ARRAY_SIZE_TYPE__', size: 4, encoding: 0, bitsOffset: 0, bits: 32 });
  }

  ptr(type: number): number {
    return this.add({ kind: 'PTR', name: '', type });
  }

  typedef(name: string, type: number): number {
    return this.add({ kind: 'TYPEDEF', name, type });
  }

  array(type: number, nelems: number): number {
    return this.add({ kind: 'ARRAY', name: '', type, indexType: this.arrayIndex(), nelems });
  }

  struct(name: string, size: number, members: readonly BtfMember[]): number {
    return this.add({ kind: 'STRUCT', name, size, kflag: members.some((m) => m.bitfieldSize !== 0), members });
  }

  funcProto(returnType: number, params: readonly { name: string; type: number }[]): number {
    return this.add({ kind: 'FUNC_PROTO', name: '', returnType, params });
  }

  func(name: string, proto: number, linkage: number = BtfFuncLinkage.GLOBAL): number {
    return this.addUnique({ kind: 'FUNC', name, type: proto, linkage });
  }

  variable(name: string, type: number, linkage: number = BtfVarLinkage.GLOBAL_ALLOCATED): number {
    return this.addUnique({ kind: 'VAR', name, type, linkage });
  }

  datasec(name: string, size: number, vars: readonly BtfVarSecinfo[]): number {
    return this.addUnique({ kind: 'DATASEC', name, size, vars });
  }

  build(): Btf {
    return { types: [...this.types] };
  }
}
