/** Constants and a table shared by DSL files (imported by sections.ts): PE facts. */
import { table } from '../../../compiler/dsl/index.ts';

export const MZ = 0x5a4d;
export const PE_SIG = 0x4550;
export const SECTION_HEADER_SIZE = 40;
export const MAX_SECTIONS = 12;
/** Largest header offset and section-table reach a 1024-byte input allows the parser to look at. */
export const HEADER_ROOM = 512;
export const TABLE_ROOM = 1024 - HEADER_ROOM;
/** Section-name first words (little-endian): ".lin", ".ini", ".cmd", ".osr". */
export const LINUX = 0x6e696c2e;
export const INITRD = 0x696e692e;
export const CMDLINE = 0x646d632e;
export const OSREL = 0x72736f2e;
export const NAMES = table('u32', [LINUX, INITRD, CMDLINE, OSREL]);
