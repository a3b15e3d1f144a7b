/**
 * Decodes a .BTF section. Every record, id and string offset is checked; the first problem throws
 * a BtfError naming the byte offset inside the section. Cycles that do not pass through a pointer
 * are rejected (BTF_LOOP), so walkers over a decoded Btf always terminate.
 */
import { BtfError } from './errors.ts';
import { BTF_HEADER_BYTES, BTF_KIND_NAMES, BTF_MAGIC, BTF_TYPE_BYTES, BTF_VERSION, type BtfKindName } from './kinds.ts';
import { StringSection } from './strings.ts';
import { type BtfType, type DecodedBtf, referencedIds, VOID } from './types.ts';

/** Extra bytes after `struct btf_type` for each kind, given vlen. */
const extraBytes = (kind: BtfKindName, vlen: number): number => {
  switch (kind) {
    case 'INT':
    case 'VAR':
    case 'DECL_TAG':
      return 4;
    case 'ARRAY':
      return 12;
    case 'STRUCT':
    case 'UNION':
    case 'DATASEC':
    case 'ENUM64':
      return vlen * 12;
    case 'ENUM':
    case 'FUNC_PROTO':
      return vlen * 8;
    default:
      return 0;
  }
};

/** The byte order a .BTF section is written in, from its magic; undefined if it is not BTF. */
export const btfByteOrder = (bytes: Uint8Array): 'le' | 'be' | undefined => {
  if (bytes.length < 2) return undefined;
  const le = bytes[0]! | (bytes[1]! << 8);
  if (le === BTF_MAGIC) return 'le';
  const be = (bytes[0]! << 8) | bytes[1]!;
  return be === BTF_MAGIC ? 'be' : undefined;
};

interface Header {
  readonly typeStart: number;
  readonly typeEnd: number;
  readonly strStart: number;
  readonly strEnd: number;
}

const readHeader = (view: DataView, size: number, le: boolean): Header => {
  if (size < BTF_HEADER_BYTES) {
    throw new BtfError('BTF_TRUNCATED', 0, `section of ${size} bytes is shorter than the BTF header`);
  }
  const version = view.getUint8(2);
  const flags = view.getUint8(3);
  if (version !== BTF_VERSION) throw new BtfError('BTF_BAD_HEADER', 2, `unsupported BTF version ${version}`);
  if (flags !== 0) throw new BtfError('BTF_BAD_HEADER', 3, `unsupported BTF flags ${flags}`);
  const hdrLen = view.getUint32(4, le);
  if (hdrLen < BTF_HEADER_BYTES || hdrLen > size) {
    throw new BtfError('BTF_BAD_HEADER', 4, `header length ${hdrLen} out of range (section ${size} bytes)`);
  }
  // A longer header than we know must be zero-filled (as the kernel requires).
  for (let i = BTF_HEADER_BYTES; i < hdrLen; i++) {
    if (view.getUint8(i) !== 0) throw new BtfError('BTF_BAD_HEADER', i, 'unknown non-zero header bytes');
  }
  const typeOff = view.getUint32(8, le);
  const typeLen = view.getUint32(12, le);
  const strOff = view.getUint32(16, le);
  const strLen = view.getUint32(20, le);
  const typeStart = hdrLen + typeOff;
  const strStart = hdrLen + strOff;
  if (typeOff % 4 !== 0) throw new BtfError('BTF_BAD_HEADER', 8, `type section offset ${typeOff} not 4-aligned`);
  if (typeStart + typeLen > size) {
    throw new BtfError('BTF_TRUNCATED', 12, `type section [${typeStart}, +${typeLen}) past the section (${size})`);
  }
  if (strStart + strLen > size) {
    throw new BtfError('BTF_TRUNCATED', 20, `string section [${strStart}, +${strLen}) past the section (${size})`);
  }
  if (strLen === 0 || view.getUint8(strStart) !== 0 || view.getUint8(strStart + strLen - 1) !== 0) {
    throw new BtfError('BTF_BAD_STRING', strStart, 'string section must start and end with NUL');
  }
  const overlap = typeStart < strStart + strLen && strStart < typeStart + typeLen;
  if (overlap && typeLen > 0) throw new BtfError('BTF_BAD_HEADER', 8, 'type and string sections overlap');
  return { typeStart, typeEnd: typeStart + typeLen, strStart, strEnd: strStart + strLen };
};

/** Decodes one type record at `at`; returns it and the offset of the next record. */
const decodeRecord = (
  view: DataView,
  at: number,
  end: number,
  le: boolean,
  str: StringSection,
): { type: BtfType; next: number } => {
  if (at + BTF_TYPE_BYTES > end) throw new BtfError('BTF_TRUNCATED', at, 'type record runs past the type section');
  const nameOff = view.getUint32(at, le);
  const info = view.getUint32(at + 4, le);
  const sizeOrType = view.getUint32(at + 8, le);
  const kindNo = (info >>> 24) & 0x1f;
  const vlen = info & 0xffff;
  const kflag = info >>> 31 === 1;
  const kind = BTF_KIND_NAMES[kindNo];
  if (kind === undefined || kind === 'UNKN') throw new BtfError('BTF_BAD_KIND', at + 4, `unknown BTF kind ${kindNo}`);
  if ((info & 0x60ff0000) !== 0)
    throw new BtfError('BTF_BAD_KIND', at + 4, `unused info bits set (0x${info.toString(16)})`);
  const body = at + BTF_TYPE_BYTES;
  const next = body + extraBytes(kind, vlen);
  if (next > end) throw new BtfError('BTF_TRUNCATED', at, `${kind} record runs past the type section`);
  const name = str.get(nameOff, at);
  const u32 = (o: number): number => view.getUint32(o, le);
  const noVlen = (): void => {
    if (vlen !== 0) throw new BtfError('BTF_BAD_KIND', at + 4, `${kind} with vlen ${vlen}`);
  };
  const noKflag = (): void => {
    if (kflag) throw new BtfError('BTF_BAD_KIND', at + 4, `${kind} with kind_flag set`);
  };
  let type: BtfType;
  switch (kind) {
    case 'INT': {
      noVlen();
      noKflag();
      const v = u32(body);
      type = {
        kind,
        name,
        size: sizeOrType,
        encoding: (v >>> 24) & 0x0f,
        bitsOffset: (v >>> 16) & 0xff,
        bits: v & 0xff,
      };
      break;
    }
    case 'PTR':
    case 'TYPEDEF':
    case 'VOLATILE':
    case 'CONST':
    case 'RESTRICT':
    case 'TYPE_TAG':
      noVlen();
      noKflag();
      type = { kind, name, type: sizeOrType };
      break;
    case 'ARRAY':
      noVlen();
      noKflag();
      type = { kind, name, type: u32(body), indexType: u32(body + 4), nelems: u32(body + 8) };
      break;
    case 'STRUCT':
    case 'UNION': {
      const members = [];
      for (let i = 0, m = body; i < vlen; i++, m += 12) {
        const off = u32(m + 8);
        members.push({
          name: str.get(u32(m), m),
          type: u32(m + 4),
          bitOffset: kflag ? off & 0xffffff : off,
          bitfieldSize: kflag ? off >>> 24 : 0,
        });
      }
      type = { kind, name, size: sizeOrType, kflag, members };
      break;
    }
    case 'ENUM': {
      const values = [];
      for (let i = 0, e = body; i < vlen; i++, e += 8) {
        values.push({ name: str.get(u32(e), e), value: kflag ? view.getInt32(e + 4, le) : u32(e + 4) });
      }
      type = { kind, name, size: sizeOrType, signed: kflag, values };
      break;
    }
    case 'ENUM64': {
      const values = [];
      for (let i = 0, e = body; i < vlen; i++, e += 12) {
        const raw = (BigInt(u32(e + 8)) << 32n) | BigInt(u32(e + 4));
        values.push({ name: str.get(u32(e), e), value: kflag ? BigInt.asIntN(64, raw) : raw });
      }
      type = { kind, name, size: sizeOrType, signed: kflag, values };
      break;
    }
    case 'FWD':
      noVlen();
      type = { kind, name, union: kflag };
      break;
    case 'FUNC':
      noKflag();
      type = { kind, name, type: sizeOrType, linkage: vlen };
      break;
    case 'FUNC_PROTO': {
      noKflag();
      const params = [];
      for (let i = 0, p = body; i < vlen; i++, p += 8) params.push({ name: str.get(u32(p), p), type: u32(p + 4) });
      type = { kind, name, returnType: sizeOrType, params };
      break;
    }
    case 'VAR':
      noVlen();
      noKflag();
      type = { kind, name, type: sizeOrType, linkage: u32(body) };
      break;
    case 'DATASEC': {
      noKflag();
      const vars = [];
      for (let i = 0, v = body; i < vlen; i++, v += 12)
        vars.push({ type: u32(v), offset: u32(v + 4), size: u32(v + 8) });
      type = { kind, name, size: sizeOrType, vars };
      break;
    }
    case 'FLOAT':
      noVlen();
      noKflag();
      type = { kind, name, size: sizeOrType };
      break;
    case 'DECL_TAG':
      noVlen();
      noKflag();
      type = { kind, name, type: sizeOrType, componentIdx: view.getInt32(body, le) };
      break;
  }
  return { type, next };
};

/**
 * Finds a cycle that does not pass through a PTR (struct members by value, typedef chains, arrays,
 * modifiers...). Iterative DFS, so deep chains cannot overflow the host stack.
 */
const checkLoops = (types: readonly BtfType[], offsets: readonly number[]): void => {
  // 0 = unvisited, 1 = on the current path, 2 = done.
  const state = new Uint8Array(types.length);
  const edges = (id: number): number[] => {
    const t = types[id]!;
    return t.kind === 'PTR' ? [] : referencedIds(t);
  };
  for (let root = 1; root < types.length; root++) {
    if (state[root] !== 0) continue;
    const stack: { id: number; out: number[]; next: number }[] = [{ id: root, out: edges(root), next: 0 }];
    state[root] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next >= top.out.length) {
        state[top.id] = 2;
        stack.pop();
        continue;
      }
      const child = top.out[top.next++]!;
      if (child === 0 || state[child] === 2) continue;
      if (state[child] === 1) {
        throw new BtfError('BTF_LOOP', offsets[child] ?? 0, `type [${child}] ${types[child]!.kind} is part of a loop`);
      }
      state[child] = 1;
      stack.push({ id: child, out: edges(child), next: 0 });
    }
  }
};

/** Decodes a .BTF section (byte order from its magic). */
export const decodeBtf = (bytes: Uint8Array): DecodedBtf => {
  const order = btfByteOrder(bytes);
  if (order === undefined) {
    throw new BtfError(bytes.length < 2 ? 'BTF_TRUNCATED' : 'BTF_BAD_HEADER', 0, 'no BTF magic 0xeb9f');
  }
  const le = order === 'le';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = readHeader(view, bytes.length, le);
  const str = new StringSection(bytes.subarray(h.strStart, h.strEnd), h.strStart);
  const types: BtfType[] = [VOID];
  const recordOffsets: number[] = [0];
  for (let at = h.typeStart; at < h.typeEnd; ) {
    const { type, next } = decodeRecord(view, at, h.typeEnd, le, str);
    types.push(type);
    recordOffsets.push(at);
    at = next;
  }
  for (let id = 1; id < types.length; id++) {
    for (const ref of referencedIds(types[id]!)) {
      if (ref >= types.length) {
        throw new BtfError(
          'BTF_BAD_TYPE_ID',
          recordOffsets[id]!,
          `type [${id}] refers to [${ref}], past the last type [${types.length - 1}]`,
        );
      }
    }
  }
  checkLoops(types, recordOffsets);
  return { types, recordOffsets, order, stringAt: (off, at) => str.get(off, at) };
};
