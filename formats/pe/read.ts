/**
 * PE/COFF reader that trusts nothing in the file: every offset and size is checked against the file and
 * against the other headers before use, and every rejection is a PeError naming the file offset.
 */
import { hex, PE_ERROR, PeError } from './errors.ts';
import {
  COFF,
  DATA_DIRECTORY_SIZE,
  DIRECTORY,
  DOS,
  MAX_DATA_DIRECTORIES,
  OPT,
  OPT_BY_FORMAT,
  OPTIONAL_MAGIC,
  PE_SIGNATURE,
  PE_SIGNATURE_SIZE,
  type PeFormat,
  SECTION,
  SYMBOL_SIZE,
} from './layout.ts';

export interface CoffHeader {
  readonly machine: number;
  readonly numberOfSections: number;
  readonly timeDateStamp: number;
  readonly pointerToSymbolTable: number;
  readonly numberOfSymbols: number;
  readonly sizeOfOptionalHeader: number;
  readonly characteristics: number;
}

export interface OptionalHeader {
  readonly format: PeFormat;
  readonly sizeOfCode: number;
  readonly sizeOfInitializedData: number;
  readonly sizeOfUninitializedData: number;
  readonly addressOfEntryPoint: number;
  readonly baseOfCode: number;
  readonly imageBase: bigint;
  readonly sectionAlignment: number;
  readonly fileAlignment: number;
  readonly sizeOfImage: number;
  readonly sizeOfHeaders: number;
  readonly checkSum: number;
  readonly subsystem: number;
  readonly dllCharacteristics: number;
  readonly numberOfRvaAndSizes: number;
}

export interface DataDirectory {
  readonly virtualAddress: number;
  readonly size: number;
}

export interface PeSection {
  /** Position in the section table. */
  readonly index: number;
  /** The name, with a COFF string-table reference ("/123") resolved. */
  readonly name: string;
  /** The 8 name bytes as stored in the section header. */
  readonly rawName: Uint8Array;
  readonly virtualSize: number;
  readonly virtualAddress: number;
  readonly sizeOfRawData: number;
  readonly pointerToRawData: number;
  readonly characteristics: number;
  /** File offset of this section's 40-byte header. */
  readonly headerOffset: number;
}

export interface FileRange {
  readonly offset: number;
  readonly size: number;
}

/** File offsets of the fields that Authenticode and the writer need. */
export interface PeOffsets {
  readonly peHeader: number;
  readonly coffHeader: number;
  readonly optionalHeader: number;
  readonly checkSum: number;
  readonly dataDirectories: number;
  /** The DataDirectory[4] entry, when NumberOfRvaAndSizes > 4. */
  readonly securityDirectory: number | undefined;
  readonly sectionTable: number;
  readonly sectionTableEnd: number;
}

export interface PeImage {
  readonly bytes: Uint8Array;
  readonly coff: CoffHeader;
  readonly optional: OptionalHeader;
  readonly dataDirectories: readonly DataDirectory[];
  readonly sections: readonly PeSection[];
  readonly offsets: PeOffsets;
  /** The attribute certificate table (file offset and size), when the security directory is non-empty. */
  readonly certificateTable: FileRange | undefined;
  /** End of the headers and all section raw data: where trailing data (if any) begins. */
  readonly rawDataEnd: number;
  /** Bytes after the section data and before the certificate table (or EOF), e.g. a COFF symbol table. */
  readonly trailingData: FileRange;
  /** The COFF symbol table plus its string table, when PointerToSymbolTable is set. */
  readonly symbolTable: FileRange | undefined;
}

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Bounds-checked little-endian field reads that name the structure when it is cut short. */
class Fields {
  readonly bytes: Uint8Array;
  private readonly dv: DataView;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.dv = view(bytes);
  }
  need(offset: number, size: number, what: string): void {
    if (offset < 0 || size < 0 || offset + size > this.bytes.length) {
      throw new PeError(
        PE_ERROR.TRUNCATED,
        offset,
        `${what} (${size} bytes) runs past the end of the file (${this.bytes.length} bytes)`,
      );
    }
  }
  u16(offset: number, what: string): number {
    this.need(offset, 2, what);
    return this.dv.getUint16(offset, true);
  }
  u32(offset: number, what: string): number {
    this.need(offset, 4, what);
    return this.dv.getUint32(offset, true);
  }
  u64(offset: number, what: string): bigint {
    this.need(offset, 8, what);
    return this.dv.getBigUint64(offset, true);
  }
}

const isPowerOfTwo = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

const readDos = (f: Fields): number => {
  f.need(0, DOS.HEADER_SIZE, 'DOS header');
  if (f.u16(0, 'DOS magic') !== DOS.MAGIC) throw new PeError(PE_ERROR.BAD_DOS_MAGIC, 0, 'no "MZ" DOS signature');
  const lfanew = f.u32(DOS.E_LFANEW, 'e_lfanew');
  if (lfanew < DOS.HEADER_SIZE || lfanew > f.bytes.length - PE_SIGNATURE_SIZE - COFF.SIZE) {
    throw new PeError(
      PE_ERROR.BAD_E_LFANEW,
      DOS.E_LFANEW,
      `e_lfanew ${hex(lfanew)} does not leave room for the PE and COFF headers (file is ${f.bytes.length} bytes)`,
    );
  }
  if (f.u32(lfanew, 'PE signature') !== PE_SIGNATURE) {
    throw new PeError(PE_ERROR.BAD_PE_SIGNATURE, lfanew, 'no "PE\\0\\0" signature at e_lfanew');
  }
  return lfanew;
};

const readCoff = (f: Fields, at: number): CoffHeader => ({
  machine: f.u16(at + COFF.MACHINE, 'Machine'),
  numberOfSections: f.u16(at + COFF.NUMBER_OF_SECTIONS, 'NumberOfSections'),
  timeDateStamp: f.u32(at + COFF.TIME_DATE_STAMP, 'TimeDateStamp'),
  pointerToSymbolTable: f.u32(at + COFF.POINTER_TO_SYMBOL_TABLE, 'PointerToSymbolTable'),
  numberOfSymbols: f.u32(at + COFF.NUMBER_OF_SYMBOLS, 'NumberOfSymbols'),
  sizeOfOptionalHeader: f.u16(at + COFF.SIZE_OF_OPTIONAL_HEADER, 'SizeOfOptionalHeader'),
  characteristics: f.u16(at + COFF.CHARACTERISTICS, 'Characteristics'),
});

const readOptional = (f: Fields, at: number, size: number): OptionalHeader => {
  const magic = f.u16(at + OPT.MAGIC, 'optional header magic');
  const format: PeFormat | undefined =
    magic === OPTIONAL_MAGIC.PE32 ? 'PE32' : magic === OPTIONAL_MAGIC.PE32_PLUS ? 'PE32+' : undefined;
  if (format === undefined) {
    throw new PeError(PE_ERROR.BAD_OPTIONAL_MAGIC, at, `optional header magic ${hex(magic)} is neither PE32 nor PE32+`);
  }
  const by = OPT_BY_FORMAT[format];
  if (size < by.DATA_DIRECTORIES) {
    throw new PeError(
      PE_ERROR.OPTIONAL_HEADER_TOO_SMALL,
      at - COFF.SIZE + COFF.SIZE_OF_OPTIONAL_HEADER,
      `SizeOfOptionalHeader ${size} is smaller than the ${by.DATA_DIRECTORIES}-byte ${format} optional header`,
    );
  }
  f.need(at, size, 'optional header');
  const imageBase =
    by.IMAGE_BASE_SIZE === 8 ? f.u64(at + by.IMAGE_BASE, 'ImageBase') : BigInt(f.u32(at + by.IMAGE_BASE, 'ImageBase'));
  return {
    format,
    sizeOfCode: f.u32(at + OPT.SIZE_OF_CODE, 'SizeOfCode'),
    sizeOfInitializedData: f.u32(at + OPT.SIZE_OF_INITIALIZED_DATA, 'SizeOfInitializedData'),
    sizeOfUninitializedData: f.u32(at + OPT.SIZE_OF_UNINITIALIZED_DATA, 'SizeOfUninitializedData'),
    addressOfEntryPoint: f.u32(at + OPT.ADDRESS_OF_ENTRY_POINT, 'AddressOfEntryPoint'),
    baseOfCode: f.u32(at + OPT.BASE_OF_CODE, 'BaseOfCode'),
    imageBase,
    sectionAlignment: f.u32(at + OPT.SECTION_ALIGNMENT, 'SectionAlignment'),
    fileAlignment: f.u32(at + OPT.FILE_ALIGNMENT, 'FileAlignment'),
    sizeOfImage: f.u32(at + OPT.SIZE_OF_IMAGE, 'SizeOfImage'),
    sizeOfHeaders: f.u32(at + OPT.SIZE_OF_HEADERS, 'SizeOfHeaders'),
    checkSum: f.u32(at + OPT.CHECKSUM, 'CheckSum'),
    subsystem: f.u16(at + OPT.SUBSYSTEM, 'Subsystem'),
    dllCharacteristics: f.u16(at + OPT.DLL_CHARACTERISTICS, 'DllCharacteristics'),
    numberOfRvaAndSizes: f.u32(at + by.NUMBER_OF_RVA_AND_SIZES, 'NumberOfRvaAndSizes'),
  };
};

const checkAlignment = (opt: OptionalHeader, at: number): void => {
  const fa = opt.fileAlignment;
  const sa = opt.sectionAlignment;
  if (!isPowerOfTwo(fa) || fa > 0x10000) {
    throw new PeError(
      PE_ERROR.BAD_ALIGNMENT,
      at + OPT.FILE_ALIGNMENT,
      `FileAlignment ${hex(fa)} is not a power of two ≤ 64 KiB`,
    );
  }
  if (!isPowerOfTwo(sa) || sa < fa) {
    throw new PeError(
      PE_ERROR.BAD_ALIGNMENT,
      at + OPT.SECTION_ALIGNMENT,
      `SectionAlignment ${hex(sa)} is not a power of two ≥ FileAlignment ${hex(fa)}`,
    );
  }
};

/** The string table (after the symbol records) or undefined when absent or malformed. */
const stringTableOf = (f: Fields, coff: CoffHeader): FileRange | undefined => {
  if (coff.pointerToSymbolTable === 0) return undefined;
  const start = coff.pointerToSymbolTable + coff.numberOfSymbols * SYMBOL_SIZE;
  if (start + 4 > f.bytes.length) return undefined;
  const size = f.u32(start, 'string table size');
  if (size < 4 || start + size > f.bytes.length) return undefined;
  return { offset: start, size };
};

const readSymbolTable = (f: Fields, coff: CoffHeader, coffAt: number): FileRange | undefined => {
  if (coff.pointerToSymbolTable === 0) return undefined;
  const end = coff.pointerToSymbolTable + coff.numberOfSymbols * SYMBOL_SIZE;
  if (end > f.bytes.length) {
    throw new PeError(
      PE_ERROR.BAD_SYMBOL_TABLE,
      coffAt + COFF.POINTER_TO_SYMBOL_TABLE,
      `COFF symbol table (${coff.numberOfSymbols} symbols at ${hex(coff.pointerToSymbolTable)}) runs past the end of the file`,
    );
  }
  const strings = stringTableOf(f, coff);
  return {
    offset: coff.pointerToSymbolTable,
    size: (strings ? strings.offset + strings.size : end) - coff.pointerToSymbolTable,
  };
};

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Section name: the 8 bytes up to the first NUL, or "/<decimal>" = an offset into the COFF string table. */
const sectionName = (f: Fields, rawName: Uint8Array, coff: CoffHeader, at: number): string => {
  const nul = rawName.indexOf(0);
  const short = utf8.decode(rawName.subarray(0, nul < 0 ? rawName.length : nul));
  if (!/^\/[0-9]+$/.test(short)) return short;
  const strings = stringTableOf(f, coff);
  const offset = Number(short.slice(1));
  if (strings === undefined || offset < 4 || offset >= strings.size) {
    throw new PeError(
      PE_ERROR.BAD_SECTION_NAME,
      at,
      `section name "${short}" refers to offset ${offset} of a COFF string table that ${strings ? `has ${strings.size} bytes` : 'is missing'}`,
    );
  }
  const table = f.bytes.subarray(strings.offset, strings.offset + strings.size);
  const end = table.indexOf(0, offset);
  if (end < 0) throw new PeError(PE_ERROR.BAD_SECTION_NAME, at, `long section name "${short}" is not NUL-terminated`);
  return utf8.decode(table.subarray(offset, end));
};

/** Extent of a section in memory: VirtualSize, or the raw size when VirtualSize is 0 (as loaders do). */
export const virtualExtent = (s: PeSection): number => (s.virtualSize !== 0 ? s.virtualSize : s.sizeOfRawData);

const checkSections = (sections: readonly PeSection[], opt: OptionalHeader, fileSize: number): void => {
  for (const s of sections) {
    const label = `section ${s.index} "${s.name}"`;
    if (s.sizeOfRawData > 0) {
      if (s.pointerToRawData < opt.sizeOfHeaders) {
        throw new PeError(
          PE_ERROR.SECTION_IN_HEADERS,
          s.headerOffset + SECTION.POINTER_TO_RAW_DATA,
          `${label}: raw data at ${hex(s.pointerToRawData)} starts inside the headers (SizeOfHeaders ${hex(opt.sizeOfHeaders)})`,
        );
      }
      if (s.pointerToRawData + s.sizeOfRawData > fileSize) {
        throw new PeError(
          PE_ERROR.SECTION_OUT_OF_FILE,
          s.headerOffset + SECTION.SIZE_OF_RAW_DATA,
          `${label}: raw data ${hex(s.pointerToRawData)}+${hex(s.sizeOfRawData)} runs past the end of the file (${hex(fileSize)})`,
        );
      }
    }
    if (s.virtualAddress < opt.sizeOfHeaders) {
      throw new PeError(
        PE_ERROR.SECTION_VA_IN_HEADERS,
        s.headerOffset + SECTION.VIRTUAL_ADDRESS,
        `${label}: VirtualAddress ${hex(s.virtualAddress)} lies inside the mapped headers (SizeOfHeaders ${hex(opt.sizeOfHeaders)})`,
      );
    }
    if (s.virtualAddress + virtualExtent(s) > opt.sizeOfImage) {
      throw new PeError(
        PE_ERROR.SECTION_BEYOND_IMAGE,
        s.headerOffset + SECTION.VIRTUAL_SIZE,
        `${label}: ${hex(s.virtualAddress)}+${hex(virtualExtent(s))} ends beyond SizeOfImage ${hex(opt.sizeOfImage)}`,
      );
    }
  }
  const overlap = (
    key: (s: PeSection) => number,
    size: (s: PeSection) => number,
    code: typeof PE_ERROR.SECTIONS_OVERLAP_RAW | typeof PE_ERROR.SECTIONS_OVERLAP_VA,
    field: number,
    what: string,
  ): void => {
    const sorted = sections.filter((s) => size(s) > 0).sort((a, b) => key(a) - key(b) || a.index - b.index);
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1]!;
      const cur = sorted[i]!;
      if (key(cur) < key(prev) + size(prev)) {
        throw new PeError(
          code,
          cur.headerOffset + field,
          `${what} of section ${cur.index} "${cur.name}" (${hex(key(cur))}) overlaps section ${prev.index} "${prev.name}" (${hex(key(prev))}+${hex(size(prev))})`,
        );
      }
    }
  };
  overlap(
    (s) => s.pointerToRawData,
    (s) => s.sizeOfRawData,
    PE_ERROR.SECTIONS_OVERLAP_RAW,
    SECTION.POINTER_TO_RAW_DATA,
    'raw data',
  );
  overlap(
    (s) => s.virtualAddress,
    virtualExtent,
    PE_ERROR.SECTIONS_OVERLAP_VA,
    SECTION.VIRTUAL_ADDRESS,
    'memory range',
  );
};

/** Parses and validates a PE image. Never modifies `bytes`; the result keeps a reference to it. */
export const readPe = (bytes: Uint8Array): PeImage => {
  const f = new Fields(bytes);
  const peHeader = readDos(f);
  const coffHeader = peHeader + PE_SIGNATURE_SIZE;
  const coff = readCoff(f, coffHeader);
  const optionalHeader = coffHeader + COFF.SIZE;
  const optional = readOptional(f, optionalHeader, coff.sizeOfOptionalHeader);
  const by = OPT_BY_FORMAT[optional.format];
  const nDirs = optional.numberOfRvaAndSizes;
  if (nDirs > MAX_DATA_DIRECTORIES || by.DATA_DIRECTORIES + nDirs * DATA_DIRECTORY_SIZE > coff.sizeOfOptionalHeader) {
    throw new PeError(
      PE_ERROR.BAD_DATA_DIRECTORY_COUNT,
      optionalHeader + by.NUMBER_OF_RVA_AND_SIZES,
      `NumberOfRvaAndSizes ${nDirs} does not fit in the ${coff.sizeOfOptionalHeader}-byte optional header (at most ${MAX_DATA_DIRECTORIES})`,
    );
  }
  checkAlignment(optional, optionalHeader);

  const sectionTable = optionalHeader + coff.sizeOfOptionalHeader;
  const sectionTableEnd = sectionTable + coff.numberOfSections * SECTION.SIZE;
  const sohField = optionalHeader + OPT.SIZE_OF_HEADERS;
  if (optional.sizeOfHeaders > bytes.length) {
    throw new PeError(
      PE_ERROR.BAD_SIZE_OF_HEADERS,
      sohField,
      `SizeOfHeaders ${hex(optional.sizeOfHeaders)} is larger than the file (${hex(bytes.length)})`,
    );
  }
  if (sectionTable > optional.sizeOfHeaders) {
    throw new PeError(
      PE_ERROR.BAD_SIZE_OF_HEADERS,
      sohField,
      `SizeOfHeaders ${hex(optional.sizeOfHeaders)} ends before the section table (${hex(sectionTable)})`,
    );
  }
  if (sectionTableEnd > optional.sizeOfHeaders) {
    throw new PeError(
      PE_ERROR.TOO_MANY_SECTIONS,
      coffHeader + COFF.NUMBER_OF_SECTIONS,
      `${coff.numberOfSections} section headers (to ${hex(sectionTableEnd)}) do not fit in SizeOfHeaders ${hex(optional.sizeOfHeaders)}`,
    );
  }
  if (optional.sizeOfImage < optional.sizeOfHeaders) {
    throw new PeError(
      PE_ERROR.BAD_SIZE_OF_IMAGE,
      optionalHeader + OPT.SIZE_OF_IMAGE,
      `SizeOfImage ${hex(optional.sizeOfImage)} is smaller than SizeOfHeaders ${hex(optional.sizeOfHeaders)}`,
    );
  }

  const dataDirectoriesAt = optionalHeader + by.DATA_DIRECTORIES;
  const dataDirectories: DataDirectory[] = [];
  for (let i = 0; i < nDirs; i++) {
    const at = dataDirectoriesAt + i * DATA_DIRECTORY_SIZE;
    dataDirectories.push({ virtualAddress: f.u32(at, 'data directory'), size: f.u32(at + 4, 'data directory') });
  }

  const sections: PeSection[] = [];
  for (let i = 0; i < coff.numberOfSections; i++) {
    const at = sectionTable + i * SECTION.SIZE;
    const rawName = bytes.slice(at + SECTION.NAME, at + SECTION.NAME + SECTION.NAME_SIZE);
    sections.push({
      index: i,
      name: sectionName(f, rawName, coff, at),
      rawName,
      virtualSize: f.u32(at + SECTION.VIRTUAL_SIZE, 'VirtualSize'),
      virtualAddress: f.u32(at + SECTION.VIRTUAL_ADDRESS, 'VirtualAddress'),
      sizeOfRawData: f.u32(at + SECTION.SIZE_OF_RAW_DATA, 'SizeOfRawData'),
      pointerToRawData: f.u32(at + SECTION.POINTER_TO_RAW_DATA, 'PointerToRawData'),
      characteristics: f.u32(at + SECTION.CHARACTERISTICS, 'Characteristics'),
      headerOffset: at,
    });
  }
  checkSections(sections, optional, bytes.length);

  let rawDataEnd = optional.sizeOfHeaders;
  for (const s of sections)
    if (s.sizeOfRawData > 0) rawDataEnd = Math.max(rawDataEnd, s.pointerToRawData + s.sizeOfRawData);

  const securityDirectory =
    nDirs > DIRECTORY.SECURITY ? dataDirectoriesAt + DIRECTORY.SECURITY * DATA_DIRECTORY_SIZE : undefined;
  const sec = dataDirectories[DIRECTORY.SECURITY];
  let certificateTable: FileRange | undefined;
  if (securityDirectory !== undefined && sec !== undefined && sec.size !== 0) {
    if (sec.virtualAddress < rawDataEnd || sec.virtualAddress + sec.size > bytes.length) {
      throw new PeError(
        PE_ERROR.BAD_CERTIFICATE_TABLE,
        securityDirectory,
        `certificate table ${hex(sec.virtualAddress)}+${hex(sec.size)} is not between the section data (ends ${hex(rawDataEnd)}) and the end of the file (${hex(bytes.length)})`,
      );
    }
    certificateTable = { offset: sec.virtualAddress, size: sec.size };
  }
  const trailingEnd = certificateTable ? certificateTable.offset : bytes.length;
  const symbolTable = readSymbolTable(f, coff, coffHeader);

  return {
    bytes,
    coff,
    optional,
    dataDirectories,
    sections,
    offsets: {
      peHeader,
      coffHeader,
      optionalHeader,
      checkSum: optionalHeader + OPT.CHECKSUM,
      dataDirectories: dataDirectoriesAt,
      securityDirectory,
      sectionTable,
      sectionTableEnd,
    },
    certificateTable,
    rawDataEnd,
    trailingData: { offset: rawDataEnd, size: trailingEnd - rawDataEnd },
    symbolTable,
  };
};

/** File offset of an RVA inside some section's raw data, or undefined. */
export const rvaToOffset = (image: PeImage, rva: number, size = 1): number | undefined => {
  for (const s of image.sections) {
    if (rva >= s.virtualAddress && rva + size <= s.virtualAddress + Math.min(virtualExtent(s), s.sizeOfRawData)) {
      return s.pointerToRawData + (rva - s.virtualAddress);
    }
  }
  return undefined;
};

/** Largest zero-filled section the reader will materialise (VirtualSize far beyond the raw data). */
export const MAX_SECTION_DATA = 256 * 1024 * 1024;

/** The section data as mapped: VirtualSize bytes (zero-filled past the raw data), as systemd-stub reads it. */
export const sectionData = (image: PeImage, s: PeSection): Uint8Array => {
  const raw = image.bytes.subarray(s.pointerToRawData, s.pointerToRawData + s.sizeOfRawData);
  const size = virtualExtent(s);
  if (size <= raw.length) return raw.subarray(0, size);
  if (size > MAX_SECTION_DATA) {
    throw new PeError(
      PE_ERROR.IMAGE_TOO_LARGE,
      s.headerOffset + SECTION.VIRTUAL_SIZE,
      `section ${s.index} "${s.name}": VirtualSize ${hex(size)} exceeds the ${MAX_SECTION_DATA}-byte limit for zero-filled data`,
    );
  }
  const out = new Uint8Array(size);
  out.set(raw);
  return out;
};

export const findSection = (image: PeImage, name: string): PeSection | undefined =>
  image.sections.find((s) => s.name === name);
