/**
 * PE writer: add, replace or remove a section (ukify's procedure), strip or set the certificate table.
 *
 * The image is taken apart into headers, section raw data (in file order) and trailing data (e.g. the
 * COFF symbol table the systemd 252 stub carries at EOF), then laid out again contiguously: new raw data
 * goes right after the last section, before the trailing data, so the Authenticode hash keeps covering
 * every byte. Every file offset stored in the image (PointerToRawData, PointerToSymbolTable, debug
 * directory entries, an EFI zboot payload offset) is carried over through one old→new offset map.
 * Inputs are never modified; every function returns a new buffer and re-reads it as a final check.
 */
import { peChecksum } from './checksum.ts';
import { hex, PE_ERROR, PeError } from './errors.ts';
import { isBzImageFile, isZboot, ZBOOT } from '../kernel/index.ts';
import {
  COFF,
  DATA_DIRECTORY_SIZE,
  DEBUG_ENTRY,
  DIRECTORY,
  OPT,
  SCN,
  SECTION,
  WIN_CERT,
} from './layout.ts';
import { type PeImage, type PeSection, readPe, rvaToOffset, virtualExtent } from './read.ts';

export interface SectionInput {
  /** At most 8 bytes of UTF-8 (images have no string table for longer names). */
  readonly name: string;
  readonly data: Uint8Array;
  /** Default: MEM_READ | CNT_INITIALIZED_DATA (as ukify). Kept from the old section when replacing. */
  readonly characteristics?: number;
}

export interface WriteOptions {
  /** Remove existing signatures instead of refusing a signed image. */
  readonly stripSignatures?: boolean;
}

export const DEFAULT_SECTION_CHARACTERISTICS = SCN.MEM_READ | SCN.CNT_INITIALIZED_DATA;

const U32_MAX = 0xffffffff;
const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;
const le = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** One section while the image is being laid out again. */
interface Slot {
  /** The original 40-byte header (fields beyond the ones we set are kept), or zeros for a new section. */
  header: Uint8Array;
  name: Uint8Array;
  virtualSize: number;
  virtualAddress: number;
  characteristics: number;
  /** Raw data, already padded to its SizeOfRawData. */
  raw: Uint8Array;
  /** Where the raw data was in the input (to map offsets that point into it), if it was kept as is. */
  from: { offset: number; size: number } | undefined;
  /** PointerToRawData kept for a section without raw data. */
  emptyPointer: number;
}

const encodeName = (name: string, at: number): Uint8Array => {
  const bytes = new TextEncoder().encode(name);
  if (bytes.length === 0 || bytes.length > SECTION.NAME_SIZE || bytes.includes(0)) {
    throw new PeError(
      PE_ERROR.SECTION_NAME_TOO_LONG,
      at,
      `section name "${name}" must be 1 to ${SECTION.NAME_SIZE} bytes without NUL (${bytes.length} given)`,
    );
  }
  const out = new Uint8Array(SECTION.NAME_SIZE);
  out.set(bytes);
  return out;
};

/** The writer's precondition: contiguous, file-aligned raw data, so the hash covers every byte. */
const checkLayout = (img: PeImage): void => {
  const fa = img.optional.fileAlignment;
  const soh = img.offsets.optionalHeader + OPT.SIZE_OF_HEADERS;
  if (img.optional.sizeOfHeaders % fa !== 0) {
    throw new PeError(
      PE_ERROR.UNSUPPORTED_LAYOUT,
      soh,
      `SizeOfHeaders ${hex(img.optional.sizeOfHeaders)} is not a multiple of FileAlignment ${hex(fa)}`,
    );
  }
  let end = img.optional.sizeOfHeaders;
  for (const s of [...img.sections]
    .filter((x) => x.sizeOfRawData > 0)
    .sort((a, b) => a.pointerToRawData - b.pointerToRawData)) {
    if (s.pointerToRawData !== end || s.sizeOfRawData % fa !== 0) {
      throw new PeError(
        PE_ERROR.UNSUPPORTED_LAYOUT,
        s.headerOffset + SECTION.POINTER_TO_RAW_DATA,
        `section ${s.index} "${s.name}" raw data ${hex(s.pointerToRawData)}+${hex(s.sizeOfRawData)} is not contiguous and ` +
          `FileAlignment-sized after ${hex(end)}; the Authenticode hash of such an image does not cover every byte`,
      );
    }
    end += s.sizeOfRawData;
  }
};

const slotOf = (img: PeImage, s: PeSection): Slot => ({
  header: img.bytes.slice(s.headerOffset, s.headerOffset + SECTION.SIZE),
  name: s.rawName,
  virtualSize: s.virtualSize,
  virtualAddress: s.virtualAddress,
  characteristics: s.characteristics,
  raw: img.bytes.subarray(s.pointerToRawData, s.pointerToRawData + s.sizeOfRawData),
  from: s.sizeOfRawData > 0 ? { offset: s.pointerToRawData, size: s.sizeOfRawData } : undefined,
  emptyPointer: s.sizeOfRawData > 0 ? 0 : s.pointerToRawData,
});

const padded = (data: Uint8Array, fa: number): Uint8Array => {
  const out = new Uint8Array(alignUp(data.length, fa));
  out.set(data);
  return out;
};

/** Adjustments to the optional header's size totals. */
interface Totals {
  sizeOfCode: number;
  sizeOfInitializedData: number;
}

const account = (t: Totals, characteristics: number, size: number): void => {
  if (characteristics & SCN.CNT_CODE) t.sizeOfCode += size;
  else if (characteristics & SCN.CNT_INITIALIZED_DATA) t.sizeOfInitializedData += size;
};

/**
 * Lays the image out again from `slots` (table order; raw data kept in input file order, new raw data last),
 * with the input's headers, trailing data and no certificate table.
 */
const rebuild = (img: PeImage, slots: readonly Slot[], totals: Totals): Uint8Array => {
  const { optional, offsets } = img;
  const fa = optional.fileAlignment;
  const tableEnd = offsets.sectionTable + slots.length * SECTION.SIZE;
  const oldHeaders = optional.sizeOfHeaders;
  const newHeaders = Math.max(oldHeaders, alignUp(tableEnd, fa));
  // Header slack the larger table will cover must be unused.
  const slackFrom = Math.max(offsets.sectionTableEnd, offsets.sectionTable);
  const slack = img.bytes.subarray(slackFrom, Math.min(tableEnd, oldHeaders));
  if (slack.some((b) => b !== 0)) {
    throw new PeError(
      PE_ERROR.NO_HEADER_ROOM,
      slackFrom,
      `the bytes after the section table (${hex(slackFrom)}..${hex(tableEnd)}) are in use`,
    );
  }
  if (newHeaders > oldHeaders) {
    const firstVa = Math.min(...slots.filter((s) => virtualExtent(toSection(s)) > 0).map((s) => s.virtualAddress));
    if (newHeaders > firstVa) {
      throw new PeError(
        PE_ERROR.NO_HEADER_ROOM,
        offsets.sectionTableEnd,
        `another section header needs SizeOfHeaders ${hex(newHeaders)}, past the first section's VirtualAddress ${hex(firstVa)}`,
      );
    }
    // An x86 bzImage's real-mode setup code is position dependent.
    if (isBzImageFile(img.bytes)) {
      throw new PeError(
        PE_ERROR.NO_HEADER_ROOM,
        offsets.sectionTableEnd,
        'no room for another section header, and an x86 bzImage cannot grow its headers (its setup code is position dependent)',
      );
    }
  }

  // File order of the kept raw data, new raw data after it, then trailing data.
  const order = slots
    .map((s, i) => ({ s, i }))
    .filter(({ s }) => s.raw.length > 0)
    .sort(
      (a, b) =>
        (a.s.from?.offset ?? Number.MAX_SAFE_INTEGER) - (b.s.from?.offset ?? Number.MAX_SAFE_INTEGER) || a.i - b.i,
    );
  const pointers = new Map<number, number>();
  let cursor = newHeaders;
  for (const { s, i } of order) {
    pointers.set(i, cursor);
    cursor += s.raw.length;
  }
  const trailing = img.bytes.subarray(img.trailingData.offset, img.trailingData.offset + img.trailingData.size);
  const trailingAt = cursor;
  const total = cursor + trailing.length;
  if (total > U32_MAX) throw new PeError(PE_ERROR.IMAGE_TOO_LARGE, 0, `the image would be ${total} bytes`);

  /** Old file offset → new file offset; undefined when it pointed into data that is gone. */
  const map = (old: number): number | undefined => {
    if (old < oldHeaders) return old;
    for (const [i, p] of pointers) {
      const from = slots[i]!.from;
      if (from && old >= from.offset && old < from.offset + from.size) return p + (old - from.offset);
    }
    if (old >= img.trailingData.offset && old <= img.trailingData.offset + img.trailingData.size) {
      return trailingAt + (old - img.trailingData.offset);
    }
    return undefined;
  };
  const mapField = (dv: DataView, at: number, what: string): void => {
    const old = dv.getUint32(at, true);
    if (old === 0) return;
    const now = map(old);
    if (now === undefined) {
      throw new PeError(PE_ERROR.UNSUPPORTED_LAYOUT, at, `${what} ${hex(old)} points into data this change removes`);
    }
    dv.setUint32(at, now, true);
  };

  const out = new Uint8Array(total);
  out.set(img.bytes.subarray(0, oldHeaders));
  for (const { s, i } of order) out.set(s.raw, pointers.get(i)!);
  out.set(trailing, trailingAt);
  const dv = le(out);

  // Section table.
  out.fill(0, offsets.sectionTable, Math.max(offsets.sectionTableEnd, tableEnd));
  slots.forEach((s, i) => {
    const at = offsets.sectionTable + i * SECTION.SIZE;
    out.set(s.header, at);
    out.set(s.name, at + SECTION.NAME);
    dv.setUint32(at + SECTION.VIRTUAL_SIZE, s.virtualSize, true);
    dv.setUint32(at + SECTION.VIRTUAL_ADDRESS, s.virtualAddress, true);
    dv.setUint32(at + SECTION.SIZE_OF_RAW_DATA, s.raw.length, true);
    dv.setUint32(at + SECTION.POINTER_TO_RAW_DATA, pointers.get(i) ?? s.emptyPointer, true);
    dv.setUint32(at + SECTION.CHARACTERISTICS, s.characteristics >>> 0, true);
  });
  dv.setUint16(offsets.coffHeader + COFF.NUMBER_OF_SECTIONS, slots.length, true);

  // Optional header totals.
  const opt = offsets.optionalHeader;
  let vaEnd = 0;
  for (const s of slots) vaEnd = Math.max(vaEnd, s.virtualAddress + virtualExtent(toSection(s)));
  const sizeOfImage = Math.max(optional.sizeOfImage, alignUp(vaEnd, optional.sectionAlignment));
  if (sizeOfImage > U32_MAX)
    throw new PeError(PE_ERROR.IMAGE_TOO_LARGE, opt + OPT.SIZE_OF_IMAGE, 'SizeOfImage would overflow');
  dv.setUint32(opt + OPT.SIZE_OF_IMAGE, sizeOfImage, true);
  dv.setUint32(opt + OPT.SIZE_OF_HEADERS, newHeaders, true);
  dv.setUint32(opt + OPT.SIZE_OF_CODE, Math.min(U32_MAX, Math.max(0, totals.sizeOfCode)), true);
  dv.setUint32(opt + OPT.SIZE_OF_INITIALIZED_DATA, Math.min(U32_MAX, Math.max(0, totals.sizeOfInitializedData)), true);
  if (offsets.securityDirectory !== undefined)
    out.fill(0, offsets.securityDirectory, offsets.securityDirectory + DATA_DIRECTORY_SIZE);

  // Every other stored file offset.
  mapField(dv, offsets.coffHeader + COFF.POINTER_TO_SYMBOL_TABLE, 'PointerToSymbolTable');
  // The EFI zboot header's payload offset is a file offset into the image.
  if (isZboot(img.bytes)) mapField(dv, ZBOOT.OFF_PAYLOAD_OFFSET, 'zboot payload offset');
  const debug = img.dataDirectories[DIRECTORY.DEBUG];
  if (debug && debug.size >= DEBUG_ENTRY.SIZE) {
    const at = rvaToOffset(img, debug.virtualAddress, debug.size);
    const newAt = at === undefined ? undefined : map(at);
    if (at === undefined || newAt === undefined) {
      throw new PeError(
        PE_ERROR.UNSUPPORTED_LAYOUT,
        offsets.dataDirectories + DIRECTORY.DEBUG * DATA_DIRECTORY_SIZE,
        `debug directory at RVA ${hex(debug.virtualAddress)} is not inside section data`,
      );
    }
    for (let e = 0; e + DEBUG_ENTRY.SIZE <= debug.size; e += DEBUG_ENTRY.SIZE) {
      mapField(dv, newAt + e + DEBUG_ENTRY.POINTER_TO_RAW_DATA, 'debug entry PointerToRawData');
    }
  }
  dv.setUint32(offsets.checkSum, peChecksum(out, offsets.checkSum), true);
  readPe(out);
  return out;
};

const toSection = (s: Slot): PeSection => ({
  index: 0,
  name: '',
  rawName: s.name,
  virtualSize: s.virtualSize,
  virtualAddress: s.virtualAddress,
  sizeOfRawData: s.raw.length,
  pointerToRawData: 0,
  characteristics: s.characteristics,
  headerOffset: 0,
});

/** Reads the image for modification: signed images are refused unless stripping was asked for. */
const forWriting = (bytes: Uint8Array, options: WriteOptions): PeImage => {
  let img = readPe(bytes);
  if (img.certificateTable) {
    if (!options.stripSignatures) {
      throw new PeError(
        PE_ERROR.SIGNED_IMAGE,
        img.offsets.securityDirectory ?? 0,
        'the image is signed; modifying it would break the signature (strip the signatures first, and sign last)',
      );
    }
    img = readPe(stripSignatures(bytes));
  }
  checkLayout(img);
  return img;
};

const totalsOf = (img: PeImage): Totals => ({
  sizeOfCode: img.optional.sizeOfCode,
  sizeOfInitializedData: img.optional.sizeOfInitializedData,
});

/**
 * Adds a section, or replaces the first section of that name. A replacement stays at its VirtualAddress
 * when its new size does not reach the next section in memory; otherwise the old section is removed and
 * the new one appended. New sections get VA = round_up(end of the last section and of SizeOfImage,
 * SectionAlignment), raw data right after the last section's (FileAlignment-padded), and the headers grow
 * (moving all raw data) when the section table is full.
 */
export const upsertSection = (bytes: Uint8Array, input: SectionInput, options: WriteOptions = {}): Uint8Array => {
  const img = forWriting(bytes, options);
  const fa = img.optional.fileAlignment;
  const name = encodeName(input.name, img.offsets.sectionTableEnd);
  const slots = img.sections.map((s) => slotOf(img, s));
  const totals = totalsOf(img);
  const existing = img.sections.find((s) => s.name === input.name);
  if (existing) {
    const slot = slots[existing.index]!;
    const nextVa = Math.min(
      ...img.sections
        .filter((s) => s.virtualAddress > existing.virtualAddress && virtualExtent(s) > 0)
        .map((s) => s.virtualAddress),
    );
    const characteristics = input.characteristics ?? existing.characteristics;
    if (existing.virtualAddress + input.data.length <= nextVa) {
      account(totals, existing.characteristics, -existing.virtualSize);
      account(totals, characteristics, input.data.length);
      slot.raw = padded(input.data, fa);
      slot.virtualSize = input.data.length;
      slot.characteristics = characteristics;
      // Same place in the file (the old offset orders it); nothing may point into the replaced bytes.
      slot.from = existing.sizeOfRawData > 0 ? { offset: existing.pointerToRawData, size: 0 } : undefined;
      return rebuild(img, slots, totals);
    }
    slots.splice(existing.index, 1);
    account(totals, existing.characteristics, -existing.virtualSize);
    return appendSection(img, slots, totals, name, input.data, characteristics);
  }
  return appendSection(img, slots, totals, name, input.data, input.characteristics ?? DEFAULT_SECTION_CHARACTERISTICS);
};

const appendSection = (
  img: PeImage,
  slots: Slot[],
  totals: Totals,
  name: Uint8Array,
  data: Uint8Array,
  characteristics: number,
): Uint8Array => {
  let end = img.optional.sizeOfImage;
  for (const s of img.sections) end = Math.max(end, s.virtualAddress + virtualExtent(s));
  const virtualAddress = alignUp(end, img.optional.sectionAlignment);
  if (virtualAddress + data.length > U32_MAX) {
    throw new PeError(
      PE_ERROR.IMAGE_TOO_LARGE,
      img.offsets.optionalHeader + OPT.SIZE_OF_IMAGE,
      'the new section would end past 4 GiB',
    );
  }
  slots.push({
    header: new Uint8Array(SECTION.SIZE),
    name,
    virtualSize: data.length,
    virtualAddress,
    characteristics,
    raw: padded(data, img.optional.fileAlignment),
    from: undefined,
    emptyPointer: 0,
  });
  account(totals, characteristics, data.length);
  return rebuild(img, slots, totals);
};

/** Removes the first section named `name` (its header and raw data); other sections keep their VAs. */
export const removeSection = (bytes: Uint8Array, name: string, options: WriteOptions = {}): Uint8Array => {
  const img = forWriting(bytes, options);
  const existing = img.sections.find((s) => s.name === name);
  if (!existing)
    return rebuild(
      img,
      img.sections.map((s) => slotOf(img, s)),
      totalsOf(img),
    );
  const slots = img.sections.map((s) => slotOf(img, s));
  slots.splice(existing.index, 1);
  const totals = totalsOf(img);
  account(totals, existing.characteristics, -existing.virtualSize);
  return rebuild(img, slots, totals);
};

/** Security directory entry and checksum of an image whose certificate table now spans `table`. */
const finishTable = (out: Uint8Array, img: PeImage, table: { offset: number; size: number }): Uint8Array => {
  const at = img.offsets.securityDirectory;
  if (at === undefined) {
    throw new PeError(
      PE_ERROR.BAD_DATA_DIRECTORY_COUNT,
      img.offsets.optionalHeader,
      'the image has no certificate-table directory entry (NumberOfRvaAndSizes ≤ 4)',
    );
  }
  const dv = le(out);
  dv.setUint32(at, table.offset, true);
  dv.setUint32(at + 4, table.size, true);
  dv.setUint32(img.offsets.checkSum, peChecksum(out, img.offsets.checkSum), true);
  readPe(out);
  return out;
};

const requireTableAtEnd = (img: PeImage): void => {
  const t = img.certificateTable;
  if (t && t.offset + t.size !== img.bytes.length) {
    throw new PeError(
      PE_ERROR.BAD_CERTIFICATE_TABLE,
      img.offsets.securityDirectory ?? 0,
      `${img.bytes.length - t.offset - t.size} bytes follow the certificate table; it must be the last thing in the file`,
    );
  }
};

/**
 * Removes the certificate table (all signatures). The zero padding signers added before it stays: it is
 * part of the signed bytes. An unsigned image comes back as an unchanged copy.
 */
export const stripSignatures = (bytes: Uint8Array): Uint8Array => {
  const img = readPe(bytes);
  if (!img.certificateTable) return bytes.slice();
  requireTableAtEnd(img);
  const out = bytes.slice(0, img.certificateTable.offset);
  return finishTable(out, img, { offset: 0, size: 0 });
};

/**
 * Replaces the certificate table with `table` (already 8-byte padded WIN_CERTIFICATE entries), appended at
 * an 8-byte aligned offset after zero padding, which is then part of the hashed bytes.
 */
export const setCertificateTable = (bytes: Uint8Array, table: Uint8Array): Uint8Array => {
  const img = readPe(bytes);
  requireTableAtEnd(img);
  const base = img.certificateTable ? img.certificateTable.offset : bytes.length;
  // An existing table keeps its offset: the bytes before it are what its signatures cover.
  const offset = img.certificateTable ? base : alignUp(base, WIN_CERT.ALIGN);
  if (offset + table.length > U32_MAX)
    throw new PeError(PE_ERROR.IMAGE_TOO_LARGE, base, 'the signed image would pass 4 GiB');
  const out = new Uint8Array(offset + table.length);
  out.set(bytes.subarray(0, base));
  out.set(table, offset);
  return finishTable(out, img, table.length ? { offset, size: table.length } : { offset: 0, size: 0 });
};

/**
 * Zero-pads an unsigned image to a multiple of 8 bytes, as sbsign does before signing (osslsigncode hashes
 * the same zeros), so the certificate table can start aligned right after the hashed bytes. A signed image
 * comes back unchanged: new entries go into its existing table.
 */
export const padForSigning = (bytes: Uint8Array): Uint8Array => {
  const img = readPe(bytes);
  requireTableAtEnd(img);
  if (img.certificateTable || bytes.length % WIN_CERT.ALIGN === 0) return bytes.slice();
  const out = new Uint8Array(alignUp(bytes.length, WIN_CERT.ALIGN));
  out.set(bytes);
  le(out).setUint32(img.offsets.checkSum, peChecksum(out, img.offsets.checkSum), true);
  readPe(out);
  return out;
};
