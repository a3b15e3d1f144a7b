/**
 * Text dump of a Btf in the format of `bpftool btf dump file X` (raw format, bpftool 7.x), so our
 * view of an object can be diffed line by line against bpftool's.
 */
import { BtfIntEncoding } from './kinds.ts';
import type { Btf, BtfType } from './types.ts';

const name = (s: string): string => (s === '' ? '(anon)' : s);

const intEncoding = (e: number): string => {
  switch (e) {
    case 0:
      return '(none)';
    case BtfIntEncoding.SIGNED:
      return 'SIGNED';
    case BtfIntEncoding.CHAR:
      return 'CHAR';
    case BtfIntEncoding.BOOL:
      return 'BOOL';
    default:
      return 'UNKN';
  }
};

const LINKAGE = ['static', 'global', 'extern'];
const linkage = (l: number): string => LINKAGE[l] ?? '(unknown)';

/** One type's lines (header line plus tab-indented member lines). */
export const formatBtfType = (btf: Btf, id: number, t: BtfType): string => {
  let s = `[${id}] ${t.kind} '${name(t.name)}'`;
  switch (t.kind) {
    case 'INT':
      s += ` size=${t.size} bits_offset=${t.bitsOffset} nr_bits=${t.bits} encoding=${intEncoding(t.encoding)}`;
      break;
    case 'PTR':
    case 'CONST':
    case 'VOLATILE':
    case 'RESTRICT':
    case 'TYPEDEF':
    case 'TYPE_TAG':
      s += ` type_id=${t.type}`;
      break;
    case 'ARRAY':
      s += ` type_id=${t.type} index_type_id=${t.indexType} nr_elems=${t.nelems}`;
      break;
    case 'STRUCT':
    case 'UNION':
      s += ` size=${t.size} vlen=${t.members.length}`;
      for (const m of t.members) {
        s += `\n\t'${name(m.name)}' type_id=${m.type} bits_offset=${m.bitOffset}`;
        if (m.bitfieldSize) s += ` bitfield_size=${m.bitfieldSize}`;
      }
      break;
    case 'ENUM':
      s += ` encoding=${t.signed ? 'SIGNED' : 'UNSIGNED'} size=${t.size} vlen=${t.values.length}`;
      for (const v of t.values) s += `\n\t'${name(v.name)}' val=${v.value}`;
      break;
    case 'ENUM64':
      s += ` encoding=${t.signed ? 'SIGNED' : 'UNSIGNED'} size=${t.size} vlen=${t.values.length}`;
      for (const v of t.values) s += `\n\t'${name(v.name)}' val=${v.value}${t.signed ? 'LL' : 'ULL'}`;
      break;
    case 'FWD':
      s += ` fwd_kind=${t.union ? 'union' : 'struct'}`;
      break;
    case 'FUNC':
      s += ` type_id=${t.type} linkage=${linkage(t.linkage)}`;
      break;
    case 'FUNC_PROTO':
      s += ` ret_type_id=${t.returnType} vlen=${t.params.length}`;
      for (const p of t.params) s += `\n\t'${name(p.name)}' type_id=${p.type}`;
      break;
    case 'VAR':
      s += ` type_id=${t.type}, linkage=${linkage(t.linkage)}`;
      break;
    case 'DATASEC':
      s += ` size=${t.size} vlen=${t.vars.length}`;
      for (const v of t.vars) {
        s += `\n\ttype_id=${v.type} offset=${v.offset} size=${v.size}`;
        const vt = btf.types[v.type];
        if (vt !== undefined) s += ` (${vt.kind} '${name(vt.name)}')`;
      }
      break;
    case 'FLOAT':
      s += ` size=${t.size}`;
      break;
    case 'DECL_TAG':
      s += ` type_id=${t.type} component_idx=${t.componentIdx}`;
      break;
    case 'UNKN':
      break;
  }
  return s;
};

/** The whole dump, one type per entry, ending with a newline (as bpftool prints it). */
export const formatBtf = (btf: Btf): string => {
  let out = '';
  for (let id = 1; id < btf.types.length; id++) out += `${formatBtfType(btf, id, btf.types[id]!)}\n`;
  return out;
};
