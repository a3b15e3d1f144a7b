/** Encodes a Btf into a .BTF section (header, type records, deduplicated string table). */
import { BtfError } from './errors.ts';
import { BTF_HEADER_BYTES, BTF_MAGIC, BTF_MAX_TYPE, BTF_MAX_VLEN, BTF_VERSION, kindNumber } from './kinds.ts';
import { StringTableBuilder } from './strings.ts';
import { type Btf, type BtfType, referencedIds } from './types.ts';

const u32 = (v: number, what: string, id: number): number => {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new BtfError('BTF_UNENCODABLE', 0, `type [${id}]: ${what} ${v} is not a u32`);
  }
  return v;
};

/** Words of one record (after string offsets are assigned). */
const recordWords = (t: BtfType, id: number, strs: StringTableBuilder): number[] => {
  const name = strs.add(t.name);
  const count = (n: number): number => {
    if (n > BTF_MAX_VLEN) throw new BtfError('BTF_UNENCODABLE', 0, `type [${id}]: ${n} entries exceed vlen`);
    return n;
  };
  const info = (vlen: number, kflag = false): number =>
    ((kflag ? 0x80000000 : 0) | (kindNumber(t.kind) << 24) | vlen) >>> 0;
  switch (t.kind) {
    case 'UNKN':
      throw new BtfError('BTF_UNENCODABLE', 0, `type [${id}]: void is implicit and cannot be encoded`);
    case 'INT': {
      if (t.encoding > 0xf || t.bitsOffset > 0xff || t.bits > 0xff) {
        throw new BtfError('BTF_UNENCODABLE', 0, `type [${id}]: INT fields out of range`);
      }
      return [name, info(0), u32(t.size, 'size', id), ((t.encoding << 24) | (t.bitsOffset << 16) | t.bits) >>> 0];
    }
    case 'PTR':
    case 'TYPEDEF':
    case 'VOLATILE':
    case 'CONST':
    case 'RESTRICT':
    case 'TYPE_TAG':
      return [name, info(0), u32(t.type, 'type', id)];
    case 'ARRAY':
      return [
        name,
        info(0),
        0,
        u32(t.type, 'type', id),
        u32(t.indexType, 'index type', id),
        u32(t.nelems, 'nelems', id),
      ];
    case 'STRUCT':
    case 'UNION': {
      const words = [name, info(count(t.members.length), t.kflag), u32(t.size, 'size', id)];
      for (const m of t.members) {
        if (!t.kflag && m.bitfieldSize !== 0) {
          throw new BtfError('BTF_UNENCODABLE', 0, `type [${id}]: bitfield member '${m.name}' needs kind_flag`);
        }
        if (t.kflag && (m.bitOffset > 0xffffff || m.bitfieldSize > 0xff)) {
          throw new BtfError('BTF_UNENCODABLE', 0, `type [${id}]: member '${m.name}' offset/bitfield out of range`);
        }
        const off = t.kflag ? ((m.bitfieldSize << 24) | m.bitOffset) >>> 0 : u32(m.bitOffset, 'offset', id);
        words.push(strs.add(m.name), u32(m.type, 'member type', id), off);
      }
      return words;
    }
    case 'ENUM': {
      const words = [name, info(count(t.values.length), t.signed), u32(t.size, 'size', id)];
      for (const v of t.values) words.push(strs.add(v.name), v.value >>> 0);
      return words;
    }
    case 'ENUM64': {
      const words = [name, info(count(t.values.length), t.signed), u32(t.size, 'size', id)];
      for (const v of t.values) {
        const raw = BigInt.asUintN(64, v.value);
        words.push(strs.add(v.name), Number(raw & 0xffffffffn), Number(raw >> 32n));
      }
      return words;
    }
    case 'FWD':
      return [name, info(0, t.union), 0];
    case 'FUNC':
      return [name, info(count(t.linkage)), u32(t.type, 'type', id)];
    case 'FUNC_PROTO': {
      const words = [name, info(count(t.params.length)), u32(t.returnType, 'return type', id)];
      for (const p of t.params) words.push(strs.add(p.name), u32(p.type, 'param type', id));
      return words;
    }
    case 'VAR':
      return [name, info(0), u32(t.type, 'type', id), u32(t.linkage, 'linkage', id)];
    case 'DATASEC': {
      const words = [name, info(count(t.vars.length)), u32(t.size, 'size', id)];
      for (const v of t.vars) words.push(u32(v.type, 'var', id), u32(v.offset, 'offset', id), u32(v.size, 'size', id));
      return words;
    }
    case 'FLOAT':
      return [name, info(0), u32(t.size, 'size', id)];
    case 'DECL_TAG':
      return [name, info(0), u32(t.type, 'type', id), t.componentIdx >>> 0];
  }
};

/**
 * Encodes types[1..] in order. `strings` may be a builder already holding the strings .BTF.ext
 * refers to (file names, source lines, section names): add those first, the table is emitted here.
 */
export const encodeBtf = (btf: Btf, order: 'le' | 'be' = 'le', strings = new StringTableBuilder()): Uint8Array => {
  if (btf.types.length - 1 > BTF_MAX_TYPE) {
    throw new BtfError('BTF_UNENCODABLE', 0, `${btf.types.length - 1} types exceed BTF_MAX_TYPE`);
  }
  const words: number[] = [];
  for (let id = 1; id < btf.types.length; id++) {
    const t = btf.types[id]!;
    if (t.kind === 'UNKN') throw new BtfError('BTF_UNENCODABLE', 0, `type [${id}] is void`);
    for (const ref of referencedIds(t)) {
      if (ref >= btf.types.length) {
        throw new BtfError('BTF_UNENCODABLE', 0, `type [${id}] refers to [${ref}], past the last type`);
      }
    }
    for (const w of recordWords(t, id, strings)) words.push(w);
  }
  const str = strings.bytes();
  const typeLen = words.length * 4;
  const out = new Uint8Array(BTF_HEADER_BYTES + typeLen + str.length);
  const view = new DataView(out.buffer);
  const le = order === 'le';
  view.setUint16(0, BTF_MAGIC, le);
  view.setUint8(2, BTF_VERSION);
  view.setUint8(3, 0);
  view.setUint32(4, BTF_HEADER_BYTES, le);
  view.setUint32(8, 0, le);
  view.setUint32(12, typeLen, le);
  view.setUint32(16, typeLen, le);
  view.setUint32(20, str.length, le);
  words.forEach((w, i) => {
    view.setUint32(BTF_HEADER_BYTES + i * 4, w, le);
  });
  out.set(str, BTF_HEADER_BYTES + typeLen);
  return out;
};
