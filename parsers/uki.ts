/**
 * The UKI parser (issue 7): at `kexec_pe_parser_hook`, takes a Unified Kernel Image as the kernel resource
 * and replaces kernel, initrd and cmdline with what systemd-stub (v258) would hand the kernel; the oracle is
 * formats/uki/stub-reference.ts (`stubHandoff`). docs/ABI.md §10 has the semantics in prose. In short:
 *
 * - LoadOptions are the user's kexec command line (the `cmdline` resource, read as UTF-8 bytes): an `@N`
 *   prefix selects profile N; a line with a control character is ignored entirely, as the stub does.
 *   Secure Boot is taken as off (no helper tells the program the kernel's signature policy), so a
 *   non-empty user line always wins over `.cmdline`. No SMBIOS extra, not a confidential VM.
 * - The user's initrd (the `initrd` resource) plays the initrd a previous loader registered (LoadFile2):
 *   it goes after the `.ucode` pieces and before the view's `.initrd`.
 * - The addon-name map `kexec_addons` lists the files of `<uki>.efi.extra.d/` (and global addons first),
 *   in the stub's order; names ending (case-insensitively) in `.cred`, `.raw` (not `.confext.raw`) and
 *   `.confext.raw` become the credentials/sysext/confext archives (bpf_helper_supplement_initrd, one
 *   archive per directory), `.addon.efi` files are PE addons (the first ADDONS_MAX): each is archived by the
 *   same helper (so its signature is checked) after the initrd built so far, read back, parsed in place,
 *   and the initrd put back; its `.cmdline` joins the addon line, its `.initrd` and `.ucode` the initrd.
 * - Pieces of the initrd in the stub's order; several are each zero-padded to 4 bytes, one is as it is.
 * - Kernel: the view's `.linux`, VirtualSize bytes (zero-filled past SizeOfRawData). A zboot kernel with
 *   its own `.bpf` is a further stage for the kernel, not this program's concern.
 *
 * Every failure is a negative status in the `kexec_bpf_result` record (and the kernel fails the load);
 * the program returns 0. Loops over bytes and sections are branch-free (selects by masks), so the
 * verifier walks one path through them, and most are bpf_loop callbacks (`…Step`), so it walks that
 * path once rather than once per iteration: see docs/ABI.md §10 for why.
 */
import {
  arrayMap,
  bpfLoop,
  type Bytes,
  type Context,
  carrier,
  IN,
  OUT,
  program,
  ringbuf,
  supplementInitrd,
  table,
  i32,
  noinline,
  u32,
} from '../compiler/dsl/index.ts';

/** Largest UKI (kernel resource) taken in, 2^IMAGE_BITS; the input record is twice that so a sub-view at any offset fits. */
export const IMAGE_BITS = 27;
export const IMAGE_MAX: u32 = 1 << IMAGE_BITS;
/** Largest user initrd plus addon archives read back. */
export const INITRD_MAX: u32 = 1 << 27;
/** Largest section table walked. */
export const SECTIONS_MAX = 128;
/** Command-line sources (the user's line, `.cmdline`, addon `.cmdline`s, one NUL each) together. */
export const SRC_MAX = 2048;
/** The `@N` prefix is looked for in the first PREFIX_MAX bytes of the user's line. */
export const PREFIX_MAX = 32;
/** Longest user command line looked at for the `@N` prefix and control characters. */
export const USER_CMDLINE_MAX = 2048;
/** PE addons handled (the first in map order); more is -E2BIG. */
export const ADDONS_MAX = 16;
/** An addon is read back with the initrd: the initrd built so far plus its archive within INITRD_MAX + ADDONS_SPAN. */
export const ADDONS_SPAN: u32 = 1 << 24;
/** Addon `.ucode` bytes are kept in kexec_initrd from STASH on, STASH_SPAN bytes together. */
export const STASH: u32 = INITRD_MAX + ADDONS_SPAN;
export const STASH_SPAN: u32 = 1 << 23;
/** Sections of one addon walked. */
export const ADDON_SECTIONS_MAX = 16;
/** Longest addon `.cmdline` (raw bytes). */
export const ADDON_CMDLINE_MAX = SRC_MAX;
/** Bytes of `.uname` compared. */
export const UNAME_MAX = 64;
/** Zero fill (VirtualSize past SizeOfRawData) is appended in chunks of this many bytes, at most ZERO_STEPS. */
export const ZERO_CHUNK = 1 << 24;
export const ZERO_STEPS = 16;

/** Input records: the UKI (always discarded). */
export const kexec_input = ringbuf({ size: 1 << 29 });
/** The user's initrd and the addon archives, read back (unreferenced memory, docs/ABI.md §4). */
export const kexec_initrd = arrayMap({ valueSize: 1 << 28, maxEntries: 1 });
/** Small working areas (layout below). */
export const kexec_scratch = arrayMap({ valueSize: 40960, maxEntries: 1 });
/** Never written: the zeros appended for zero-filled section tails. */
export const kexec_zero = arrayMap({ valueSize: 1 << 24, maxEntries: 1 });
/** The addon-name map (docs/ABI.md §3), filled by the loader. */
export const kexec_addons = arrayMap({ valueSize: 256, maxEntries: 16 });
/** One `struct kexec_bpf_result` per run. */
export const kexec_result = ringbuf({ size: 4096 });

/*
 * The DSL reads only constants of this file, so the facts below are restated; test/parsers/uki.test.ts
 * checks each against its one definition (bpf/abi, formats/pe, formats/cpio, formats/uki).
 */
export const EINVAL = 22;
export const ENOEXEC = 8;
export const ENOENT = 2;
export const EFBIG = 27;
export const E2BIG = 7;
export const ENOMEM = 12;
/** bpf_helper_carrier's APPEND direction (bpf/abi CARRIER_DIR.APPEND). */
export const APPEND_DIR = 2;

/** struct kexec_bpf_result (bpf/abi KEXEC_BPF_RESULT). */
export const RESULT_SIZE = 64;
export const RESULT_MAGIC = 0x5242584b;
export const RESULT_VERSION = 1;
export const RESULT_F_KERNEL = 1;
export const RESULT_F_INITRD = 2;
export const RESULT_F_CMDLINE = 4;
export const RES_VERSION = 4;
export const RES_FLAGS = 6;
export const RES_STATUS = 8;
export const RES_DEPTH = 12;
export const RES_FORMAT = 16;
export const RES_DETAIL = 32;

/** PE/COFF (formats/pe layout). */
export const MZ = 0x5a4d;
export const PE_SIG = 0x00004550;
export const DOS_HEADER_SIZE = 64;
export const E_LFANEW = 0x3c;
export const COFF_SIZE = 20;
export const OPT_MAGIC_PE32 = 0x10b;
export const OPT_MAGIC_PE32_PLUS = 0x20b;
export const OPT_SIZE_OF_HEADERS = 60;
export const SECTION_SIZE = 40;
export const SEC_VIRTUAL_SIZE = 8;
export const SEC_SIZE_OF_RAW_DATA = 16;
export const SEC_POINTER_TO_RAW_DATA = 20;

/**
 * The section names the program looks up, as the first and second little-endian words of the 8-byte
 * header name and a mask for the second (the name and its NUL, as the stub's pe_section_name_equal).
 */
/** In order: .linux .cmdline .initrd .ucode .uname .pcrsig .pcrpkey .osrel .profile */
export const NAME_LO = table(
  'u32',
  [0x6e696c2e, 0x646d632e, 0x696e692e, 0x6f63752e, 0x616e752e, 0x7263702e, 0x7263702e, 0x72736f2e, 0x6f72702e],
);
export const NAME_HI = table(
  'u32',
  [0x00007875, 0x656e696c, 0x00647274, 0x00006564, 0x0000656d, 0x00676973, 0x79656b70, 0x00006c65, 0x656c6966],
);
export const NAME_MASK = table(
  'u32',
  [0x00ffffff, 0xffffffff, 0xffffffff, 0x00ffffff, 0x00ffffff, 0xffffffff, 0xffffffff, 0x00ffffff, 0xffffffff],
);

const N_NAMES = 9;
const W_LINUX = 0;
const W_CMDLINE = 1;
const W_INITRD = 2;
const W_UCODE = 3;
const W_PROFILE = 8;

/** Scratch layout (offsets into kexec_scratch). */
const SRC = 0; // command-line sources, SRC_MAX bytes (+ a window: IN copies take SRC_MAX-byte views)
const OUTB = 8192; // the command line produced (8192 bytes, indexes masked)
const BASE = 16640; // first section of each name in the base range (index + 1), u32[16]
const PROF = 16704; // first section of each name in the selected profile's range, u32[16]
const HDR = 17408; // newc headers being built (512 bytes)
const SLOT_KIND = 17984; // kind per slot, u32[16]
const STATE = 18048; // u32 state words below
const S_SECTAB = STATE; // section table offset
const S_NSEC = STATE + 4;
const S_LEN = STATE + 8; // image length
const S_PROFILE = STATE + 12;
const S_REST = STATE + 16; // where the user's line starts after the @N prefix
const S_IGNORED = STATE + 20; // the user's line is ignored (a control character)
const S_USERTEXT = STATE + 24; // the user's line has text after the prefix
const S_TOTAL = STATE + 28; // initrd length so far
const S_PIECES = STATE + 32; // initrd pieces so far
const S_SRCLEN = STATE + 120; // length of the `.cmdline` copied to SRC
/** mangle's arguments and state while bpfLoop runs mangleStep (a callback sees the program through maps). */
const M_ATMP = STATE + 128;
const M_START = STATE + 132;
const M_ADDL = STATE + 136;
const M_AT = STATE + 140;
const M_END = STATE + 144;
const M_CONV = STATE + 148;
const M_O = STATE + 152;
const M_LAST = STATE + 156;
const M_ENDED = STATE + 160;
const M_NEED = STATE + 164;
const M_C = STATE + 168;
const M_BAD = STATE + 172;
/** readUserCmdline's scan (userLineStep) and classifySlots' (slotNameStep). */
const U_REST = STATE + 176;
const U_BEFORE = STATE + 180;
const U_BAD = STATE + 184;
const U_TEXT = STATE + 188;
const C_SLOT = STATE + 192;
const C_LEN = STATE + 196;
const C_OPEN = STATE + 200;
const C_HIGH = STATE + 204;

const ASTATE = 18432; // the addon's header words (readHeaders at ASTATE)
const ABASE = 18560; // first section of each addon name (index + 1), u32[8]
const S_ADDLEN = STATE + 36; // length of the addon line in ADDL
const S_ASTART = STATE + 40; // the addon line's text, trimmed: ADDL[S_ASTART, S_AEND)
const S_AEND = STATE + 108;
const S_NADDONS = STATE + 112;
const S_STASH = STATE + 116; // bytes of addon .ucode kept at STASH
const UREC = 19584; // per addon: .ucode at STASH + x, raw bytes, size (u32[3] each)
const S_CLEN = STATE + 44; // length of the command line in OUTB
const S_UNAME = STATE + 100; // the view has .uname
const ALIST = 19456; // slots of the PE addons, u32[16]
const UNB = 19968; // the view's .uname (UNAME_MAX bytes)
const ATMP = 20480; // an addon's .cmdline (ADDON_CMDLINE_MAX bytes, + a window)
const ADDL = 24576; // the addon line (2048 bytes, + a window)
const SECT = 28672; // the section table, copied from the image (SECTION_SIZE bytes each, SECTIONS_MAX)
const S_WANT = STATE + 208; // scanSections: the wanted profile range (profile + 1)
const S_RANGE = STATE + 212; // scanSections: .profile sections so far
const S_BAD = STATE + 216; // scanSections: a section's raw data leaves the file
const S_ABAD = STATE + 220; // addonSectionStep: an addon section's raw data leaves the file
const N_AT = STATE + 224; // newcHeader: where the header goes (from HDR), and its fields
const N_INO = STATE + 228;
const N_MODE = STATE + 232;
const N_FILESIZE = STATE + 236;
const N_NAMESIZE = STATE + 240;
const N_NAMEAT = STATE + 244; // literalPiece: the file's name in LITERAL_NAMES, and its length
const N_NAMELEN = STATE + 248;
const A_VS = STATE + 252; // unameAgrees: the addon's .uname VirtualSize, SizeOfRawData, PointerToRawData
const A_RAW = STATE + 256;
const A_PTR = STATE + 260;
const A_DONE = STATE + 264; // unameAgrees: the comparison has ended (a NUL or a difference), they differ
const A_DIFFER = STATE + 268;
const S_AERR = STATE + 272; // addonPass: the error that stopped the addons (-errno), 0 when none
const S_KIND = STATE + 276; // sidecarPiece: the kind of slot being archived
const U_LIMIT = STATE + 280; // copyUname: bytes of .uname the file has (the rest reads as zeros)
/** readUserCmdline's `@N` prefix scan (prefixStep): in the digits, digits, significant ones, value, tenth, terminator. */
const P_IN = STATE + 284;
const P_DIGITS = STATE + 288;
const P_SIG = STATE + 292;
const P_VALUE = STATE + 296;
const P_TENTH = STATE + 300;
const P_TERM = STATE + 304;
/** Addon names in ABASE: .linux .cmdline .initrd .ucode .uname (as NAME_*), then .dtb .dtbauto. */
const A_NAMES = 7;
const DTB_LO = 0x6274642e;
const DTB_HI = 0x6f747561;

/** Sidecar kinds of addon-name map entries. */
const K_NONE = 0;
const K_ADDON = 1;
const K_CRED = 2;
const K_SYSEXT = 3;
const K_CONFEXT = 4;

/** Branch-free arithmetic on small values (below 2^31): 0/1 results, selects by a 0/1 mask. */
function isZero(x: u32): u32 {
  return ((x | -x) >>> 31) ^ 1;
}
function eq(a: u32, b: u32): u32 {
  return isZero(u32(a ^ b));
}
/** a < b for a, b < 2^31. */
function lt(a: u32, b: u32): u32 {
  return (a - b) >>> 31;
}
function sel(m: u32, a: u32, b: u32): u32 {
  return u32((a & -m) | (b & (m - 1)));
}

function minU32(a: u32, b: u32): u32 {
  return a < b ? a : b;
}

/** The section header of 1-based index `idx` (0: none). */
function hdrOf(scr: Bytes, idx: u32): u32 {
  return u32(scr.u32(S_SECTAB) + u32(idx - 1) * SECTION_SIZE);
}

/** Checks the PE headers; stores the section table's place. 0 or -errno. */
function readHeaders(img: Bytes, scr: Bytes, len: u32, st: u32): i32 {
  if (len < DOS_HEADER_SIZE || img.u16(0) !== MZ) return -ENOEXEC;
  const lfanew = img.u32(E_LFANEW);
  if (lfanew < DOS_HEADER_SIZE || lfanew > len - 4 - COFF_SIZE) return -ENOEXEC;
  if (img.u32(lfanew) !== PE_SIG) return -ENOEXEC;
  const coff = lfanew + 4;
  const nsec = img.u16(coff + 2);
  const optSize = img.u16(coff + 16);
  const opt = coff + COFF_SIZE;
  if (opt + 2 > len) return -ENOEXEC;
  const magic = img.u16(opt);
  if (magic !== OPT_MAGIC_PE32 && magic !== OPT_MAGIC_PE32_PLUS) return -ENOEXEC;
  if (optSize < OPT_SIZE_OF_HEADERS + 4 || opt + optSize > len) return -ENOEXEC;
  const sectab = opt + optSize;
  if (nsec > SECTIONS_MAX) return -E2BIG;
  if (sectab + nsec * SECTION_SIZE > len) return -ENOEXEC;
  scr.setU32(st, sectab);
  scr.setU32(st + 4, nsec);
  scr.setU32(st + 8, len);
  scr.setU32(st + 48, img.u32(opt + OPT_SIZE_OF_HEADERS));
  scr.setU32(st + 96, img.u16(coff)); // the machine
  return 0;
}

/**
 * One pass over the section table: the first section of each name in the base range and in the range
 * of profile `profile`, the number of profiles, and whether a section's raw data leaves the file.
 * Returns the number of `.profile` sections, or -EINVAL for raw data outside the file. The table is
 * copied to SECT first, because the step is a bpf_loop callback (verified once, not once per section)
 * and a callback reaches maps, not the input record; the copy goes through the kernel resource (the
 * bounce buffer, written for good at the end), as a loop over the sections would be verified once per
 * section.
 */
function scanSections(img: Bytes, scr: Bytes, profile: u32): i32 {
  for (let w: u32 = 0; w < 16; w++) {
    scr.setU32(BASE + w * 4, 0);
    scr.setU32(PROF + w * 4, 0);
  }
  const sectab = scr.u32(S_SECTAB) & (IMAGE_MAX - 1);
  const nsec = scr.u32(S_NSEC) & 0xffff;
  const table = u32(nsec * SECTION_SIZE);
  if (table > SECTIONS_MAX * SECTION_SIZE) return -E2BIG;
  const o = carrier('kernel', img.sub(sectab, IMAGE_MAX), table, OUT);
  if (o < 0) return o;
  const back = carrier('kernel', scr.sub(SECT, SECTIONS_MAX * SECTION_SIZE), table, IN);
  if (back < 0) return back;
  scr.setU32(S_WANT, (profile & 0xffff) + 1);
  scr.setU32(S_RANGE, 0);
  scr.setU32(S_BAD, 0);
  bpfLoop(nsec, sectionStep);
  if (scr.u32(S_BAD) !== 0) return -EINVAL;
  return i32(scr.u32(S_RANGE) & 0xffff);
}

/** Section `i` of the scan (scanSections): counts `.profile`s and notes the first section of each name. */
const sectionStep = noinline((i: u32): boolean => {
  const scr = kexec_scratch.lookup(0);
  if (scr === null) return true;
  const e = SECT + (i & (SECTIONS_MAX - 1)) * SECTION_SIZE;
  const lo = scr.u32(e);
  const hi = scr.u32(e + 4);
  const raw = scr.u32(e + SEC_SIZE_OF_RAW_DATA);
  const ptr = scr.u32(e + SEC_POINTER_TO_RAW_DATA);
  const len = scr.u32(S_LEN) & (IMAGE_MAX * 2 - 1);
  const headers = scr.u32(STATE + 48);
  // raw data inside the file and after the headers (formats/pe checkSections)
  const big = isZero(u32((raw | ptr) >>> IMAGE_BITS)) ^ 1;
  const out =
    lt(len, (ptr & (IMAGE_MAX - 1)) + (raw & (IMAGE_MAX - 1))) |
    lt(ptr & (IMAGE_MAX - 1), headers & 0x7fffffff) |
    big;
  scr.setU32(S_BAD, u32(scr.u32(S_BAD) | ((isZero(raw) ^ 1) & out)));
  const isProfile = eq(lo, NAME_LO.at(W_PROFILE)) & eq(hi, NAME_HI.at(W_PROFILE));
  const range = (scr.u32(S_RANGE) + isProfile) & 0xffff;
  scr.setU32(S_RANGE, range);
  const inBase = isZero(range);
  const inSel = eq(range, scr.u32(S_WANT) & 0x1ffff);
  for (let w: u32 = 0; w < N_NAMES; w++) {
    const m = eq(lo, NAME_LO.at(w)) & eq(u32(hi & NAME_MASK.at(w)), NAME_HI.at(w));
    const b = scr.u32(BASE + w * 4);
    const p = scr.u32(PROF + w * 4);
    scr.setU32(BASE + w * 4, sel(u32(inBase & m & isZero(b)), (i & 0xff) + 1, b));
    scr.setU32(PROF + w * 4, sel(u32(inSel & m & isZero(p)), (i & 0xff) + 1, p));
  }
  return false;
});

/** The view's section of name `w` (1-based index, 0 when absent): the profile's first, else the base's. */
function viewOf(scr: Bytes, w: u32): u32 {
  const p = scr.u32(PROF + (w & 15) * 4);
  return p !== 0 ? p : scr.u32(BASE + (w & 15) * 4);
}

/** VirtualSize of the view's section `w` (0 when absent). */
function sizeOf(img: Bytes, scr: Bytes, w: u32): u32 {
  const idx = viewOf(scr, w);
  if (idx === 0) return 0;
  return img.u32(hdrOf(scr, idx) + SEC_VIRTUAL_SIZE);
}

/** Bytes of raw data the view's section `w` has before its zero fill (min(VirtualSize, SizeOfRawData)). */
function rawOf(img: Bytes, scr: Bytes, w: u32): u32 {
  const idx = viewOf(scr, w);
  if (idx === 0) return 0;
  const h = hdrOf(scr, idx);
  const vs = img.u32(h + SEC_VIRTUAL_SIZE);
  return minU32(vs, img.u32(h + SEC_SIZE_OF_RAW_DATA));
}

function ptrOf(img: Bytes, scr: Bytes, w: u32): u32 {
  const idx = viewOf(scr, w);
  if (idx === 0) return 0;
  return img.u32(hdrOf(scr, idx) + SEC_POINTER_TO_RAW_DATA);
}

/** True (1) when the view's section `w` must be zero-filled beyond what the stub can map (formats/pe MAX_SECTION_DATA). */
export const MAX_SECTION_DATA = 1 << 28;

/** Appends `z` zero bytes to the kernel from the zero map, in ZERO_CHUNK steps. 0 or -errno. */
function kernelZeros(zero: Bytes, z: u32): i32 {
  if (z > MAX_SECTION_DATA) return -EFBIG;
  const full = z >>> 24;
  let err: u32 = 0;
  for (let k: u32 = 0; k < ZERO_STEPS && k < full; k++) {
    err = u32(err | (u32(carrier('kernel', zero, ZERO_CHUNK, APPEND_DIR)) >>> 31));
  }
  const r = carrier('kernel', zero, z & (ZERO_CHUNK - 1), APPEND_DIR);
  if (r < 0) return r;
  if (err !== 0) return -ENOMEM;
  return 0;
}

/**
 * Appends `z` zero bytes to the initrd (a zero-filled section tail, padding): one step, so at most
 * ZERO_CHUNK - 1 bytes (a larger zero tail of an initrd piece is -EFBIG). 0 or -errno.
 */
function initrdZeros(zero: Bytes, z: u32): i32 {
  if (z > ZERO_CHUNK - 1) return -EFBIG;
  const r = carrier('initrd', zero, z & (ZERO_CHUNK - 1), APPEND_DIR);
  if (r < 0) return r;
  return 0;
}

/**
 * The user's command line into SRC (NUL-terminated): the `@N` prefix (stub.c process_arguments, text.ts
 * splitProfilePrefix; recognised within the first PREFIX_MAX bytes), the control-character check, and
 * whether anything but whitespace follows the prefix. Stores the profile, where the line proper starts,
 * whether the line is ignored and whether it is empty. 0 or -errno.
 */
function readUserCmdline(scr: Bytes): i32 {
  let n: i32 = carrier('cmdline', scr.sub(SRC, SRC_MAX), 0, IN);
  if (n < 0) n = 0; // no command line (-ENOENT)
  if (n > USER_CMDLINE_MAX) return -E2BIG;
  // a second IN of a missing command line would fail again: nothing to copy then
  const got = n === 0 ? 0 : carrier('cmdline', scr.sub(SRC, SRC_MAX), u32(n) & (SRC_MAX - 1), IN);
  if (got < 0) return got;
  const g = u32(got) & (USER_CMDLINE_MAX * 2 - 1);
  scr.setU8(SRC + g, 0);
  scr.setU32(P_IN, 1);
  scr.setU32(P_DIGITS, 0);
  scr.setU32(P_SIG, 0);
  scr.setU32(P_VALUE, 0);
  scr.setU32(P_TENTH, 0);
  scr.setU32(P_TERM, 0);
  bpfLoop(PREFIX_MAX - 1, prefixStep);
  const inDigits = scr.u32(P_IN) & 1;
  const digits = scr.u32(P_DIGITS) & 0xff;
  const significant = scr.u32(P_SIG) & 0xff;
  const value = scr.u32(P_VALUE) & 0x3fffffff;
  const tenth = scr.u32(P_TENTH) & 15;
  const term = scr.u32(P_TERM) & 0xff;
  // @N with N ≤ UINT_MAX, then one space (removed) or the end
  const over = u32(
    lt(10, significant) | (eq(significant, 10) & (lt(429496729, value) | (eq(value, 429496729) & lt(5, tenth)))),
  );
  const prefixed = u32(
    eq(scr.u8(SRC), 0x40) & (isZero(digits) ^ 1) & (over ^ 1) & isZero(inDigits) & (eq(term, 0x20) | isZero(term)),
  );
  const rest = sel(prefixed, u32(1 + digits + eq(term, 0x20)) & 0xff, 0);
  // control characters anywhere before the first NUL make the stub ignore the line; text after the prefix
  scr.setU32(U_REST, rest);
  scr.setU32(U_BEFORE, 1);
  scr.setU32(U_BAD, 0);
  scr.setU32(U_TEXT, 0);
  bpfLoop(USER_CMDLINE_MAX + 1, userLineStep);
  const bad = scr.u32(U_BAD) & 1;
  const text = scr.u32(U_TEXT) & 1;
  // ten significant digits are at least 10^9: a profile no UKI has (PROFILES_MAX is 256)
  const profile = sel(eq(significant, 10), 0x7fffffff, value);
  scr.setU32(S_PROFILE, sel(u32(prefixed & (bad ^ 1)), profile, 0));
  scr.setU32(S_REST, sel(bad, 0, rest));
  scr.setU32(S_IGNORED, bad);
  scr.setU32(S_USERTEXT, u32(text & (bad ^ 1)));
  return 0;
}

/** Byte `k + 1` of the user's line in the `@N` prefix scan (readUserCmdline): the digits and their value. */
const prefixStep = noinline((k: u32): boolean => {
  const scr = kexec_scratch.lookup(0);
  if (scr === null) return true;
  const b = scr.u8(SRC + ((k + 1) & (PREFIX_MAX - 1)));
  const inDigits = scr.u32(P_IN) & 1;
  const significant = scr.u32(P_SIG) & 0xff;
  const isDigit = u32((((b - 0x30) >>> 31) ^ 1) & ((b - 0x3a) >>> 31));
  const cont = u32(inDigits & isDigit);
  const stop = u32(inDigits & (isDigit ^ 1));
  scr.setU32(P_TERM, sel(stop, b, scr.u32(P_TERM) & 0xff));
  scr.setU32(P_IN, u32(inDigits & (stop ^ 1)));
  const d = (b - 0x30) & 15;
  const sig = u32(cont & ((isZero(significant) & isZero(d)) ^ 1));
  const next = (significant + sig) & 0xff;
  scr.setU32(P_SIG, next);
  const value = scr.u32(P_VALUE) & 0x3fffffff;
  scr.setU32(P_VALUE, sel(u32(sig & lt(next, 10)), u32(value * 10 + d) & 0x3fffffff, value));
  scr.setU32(P_TENTH, sel(u32(sig & eq(next, 10)), d, scr.u32(P_TENTH) & 15));
  scr.setU32(P_DIGITS, (scr.u32(P_DIGITS) + cont) & 0xff);
  return false;
});

/** One byte of the user's line (readUserCmdline): a control character before the first NUL, text after the prefix. */
const userLineStep = noinline((i: u32): boolean => {
  const scr = kexec_scratch.lookup(0);
  if (scr === null) return true;
  const b = scr.u8(SRC + (i & (SRC_MAX * 2 - 1)));
  const live = u32(scr.u32(U_BEFORE) & 1 & (isZero(b) ^ 1));
  scr.setU32(U_BAD, u32(scr.u32(U_BAD) | (live & lt(b, 0x20))));
  const after = lt(i & 0xfff, scr.u32(U_REST) & 0xff) ^ 1;
  scr.setU32(U_TEXT, u32(scr.u32(U_TEXT) | (live & after & lt(0x20, b) & (eq(b, 0x7f) ^ 1))));
  scr.setU32(U_BEFORE, live);
  return live === 0;
});

/**
 * The command line (stub.c settle_command_line; text.ts utf8ToUcs2, mangleCmdline, ucs2ToUtf8), one
 * byte per bpfLoop call of mangleStep: the verifier checks that body once, not once per byte. Reads
 * `max` bytes of scratch from SRC (`atmp` 0) or ATMP (1) plus `start`; writes OUTB (`addl` 0) or ADDL
 * (1) plus `at`, and returns the length. With `conv` the bytes are a section's `.cmdline`, `end`
 * bytes long: decoded as the stub's xstrn8_to_16 does (a lead byte gives the length 1–6, no overlong
 * check; a bad lead byte drops 1 byte, a bad continuation byte the whole sequence, a sequence cut
 * short by `end` ends the text; code points above U+FFFF and surrogates are dropped) and re-encoded
 * as the kernel's EFI stub makes UTF-8 of the UCS-2 line. Without, every byte is one character (the
 * user's line). Then the stub's mangling: up to the first NUL, leading and trailing whitespace
 * (≤ 0x20 and 0x7F) dropped, every other such character a space, runs kept. The result is never
 * longer than the input; up to 3 bytes beyond it may be written.
 */
function mangle(scr: Bytes, atmp: u32, start: u32, addl: u32, at: u32, max: u32, end: u32, conv: u32): u32 {
  scr.setU32(M_ATMP, atmp);
  scr.setU32(M_START, start);
  scr.setU32(M_ADDL, addl);
  scr.setU32(M_AT, at);
  scr.setU32(M_END, end);
  scr.setU32(M_CONV, conv);
  for (let w: u32 = M_O; w < M_BAD + 4; w += 4) scr.setU32(w, 0);
  bpfLoop(max, mangleStep);
  return scr.u32(M_LAST) & (SRC_MAX - 1);
}

/** One byte of mangle (its state in the M_* scratch words); true once the text has ended. */
const mangleStep = noinline((i: u32): boolean => {
  const scr = kexec_scratch.lookup(0);
  if (scr === null) return true;
  const conv = scr.u32(M_CONV) & 1;
  let o: u32 = scr.u32(M_O) & (SRC_MAX - 1);
  let ended: u32 = scr.u32(M_ENDED) & 1;
  let need: u32 = scr.u32(M_NEED) & 7;
  let c: u32 = scr.u32(M_C) & 0x7fffffff;
  let bad: u32 = scr.u32(M_BAD) & 1;
  const b = scr.u8((scr.u32(M_ATMP) & 1) * ATMP + ((scr.u32(M_START) + i) & (SRC_MAX * 2 - 1)));
  const lead = isZero(need);
  // the lead byte's class: the sequence's length - 1 (0 for ASCII, a bad lead, or any byte without conv)
  const l2 = eq(b & 0xe0, 0xc0);
  const l3 = eq(b & 0xf0, 0xe0);
  const l4 = eq(b & 0xf8, 0xf0);
  const l5 = eq(b & 0xfc, 0xf8);
  const l6 = eq(b & 0xfe, 0xfc);
  const more = u32((l2 + l3 * 2 + l4 * 3 + l5 * 4 + l6 * 5) & -conv);
  const badLead = u32(conv & (b >>> 7) & isZero(more));
  const cut = u32(conv & lead & lt(u32(scr.u32(M_END) - i) & 0x7fffffff, u32(more + 1)));
  const first = sel(isZero(more), b, b & (0xff >>> (more + 2)));
  c = sel(lead, first, u32(((c << 6) | (b & 0x3f)) & 0x7fffffff));
  bad = sel(lead, badLead, u32(bad | (eq(b & 0xc0, 0x80) ^ 1)));
  need = sel(lead, more, u32(need - 1) & 7);
  const valid = u32(isZero(need) & (bad ^ 1) & (lt(c, 0xd800) | (lt(0xdfff, c) & lt(c, 0x10000))));
  ended = u32(ended | cut | (valid & isZero(c)));
  const ws = u32(lt(c, 0x21) | eq(c, 0x7f));
  const live = u32((ended ^ 1) & valid & ((isZero(o) ^ 1) | (ws ^ 1)));
  // UTF-8 of c in k bytes (a space for whitespace; the byte itself without conv)
  const k = u32(1 + ((lt(0x7f, c) + lt(0x7ff, c)) & -conv));
  const two = eq(k, 2);
  const dst = (scr.u32(M_ADDL) & 1) * (ADDL - OUTB) + OUTB + (scr.u32(M_AT) & (SRC_MAX - 1)) + o;
  scr.setU8(dst, sel(eq(k, 1), sel(ws, 0x20, c), sel(two, 0xc0 | (c >>> 6), 0xe0 | (c >>> 12))));
  scr.setU8(dst + 1, sel(two, 0x80 | (c & 0x3f), 0x80 | ((c >>> 6) & 0x3f)));
  scr.setU8(dst + 2, 0x80 | (c & 0x3f));
  o = (o + (k & -live)) & (SRC_MAX - 1);
  scr.setU32(M_LAST, sel(u32(live & (ws ^ 1)), o, scr.u32(M_LAST)));
  scr.setU32(M_O, o);
  scr.setU32(M_ENDED, ended);
  scr.setU32(M_NEED, need);
  scr.setU32(M_C, c);
  scr.setU32(M_BAD, bad);
  return ended === 1;
});

/** Pads the initrd to a multiple of 4 when another piece follows one (combine_initrds). 0 or -errno. */
function padPiece(zero: Bytes, scr: Bytes): i32 {
  const total = scr.u32(S_TOTAL);
  const pad = (4 - (total & 3)) & 3;
  if (scr.u32(S_PIECES) === 0 || pad === 0) return 0;
  const r = carrier('initrd', zero, pad, APPEND_DIR);
  if (r < 0) return r;
  scr.setU32(S_TOTAL, total + pad);
  return 0;
}

/** Appends the view's section `w` (VirtualSize bytes, zero-filled) to the initrd as one piece. 0 or -errno. */
function sectionPiece(img: Bytes, scr: Bytes, zero: Bytes, w: u32): i32 {
  const vs = sizeOf(img, scr, w);
  if (vs === 0) return 0;
  const p = padPiece(zero, scr);
  if (p < 0) return p;
  const n = rawOf(img, scr, w) & (IMAGE_MAX - 1);
  const r = carrier('initrd', img.sub(ptrOf(img, scr, w) & (IMAGE_MAX - 1), IMAGE_MAX), n, APPEND_DIR);
  if (r < 0) return r;
  const z = initrdZeros(zero, u32(vs - n));
  if (z < 0) return z;
  scr.setU32(S_TOTAL, scr.u32(S_TOTAL) + vs);
  scr.setU32(S_PIECES, scr.u32(S_PIECES) + 1);
  return 0;
}

/** The `.extra` archives made from sections (formats/cpio SIDECARS pcrsig, pcrpkey, osrel, profile): section, file name. */
const LITERAL_SECTION = table('u32', [5, 6, 7, 8]);
const LITERAL_NAME_AT = table('u32', [0, 23, 46, 56, 63]);
const LITERAL_NAMES = table(
  'u8',
  [
    // tpm2-pcr-signature.json
    0x74, 0x70, 0x6d, 0x32, 0x2d, 0x70, 0x63, 0x72, 0x2d, 0x73, 0x69, 0x67, 0x6e, 0x61, 0x74, 0x75, 0x72, 0x65, 0x2e,
    0x6a, 0x73, 0x6f, 0x6e,
    // tpm2-pcr-public-key.pem
    0x74, 0x70, 0x6d, 0x32, 0x2d, 0x70, 0x63, 0x72, 0x2d, 0x70, 0x75, 0x62, 0x6c, 0x69, 0x63, 0x2d, 0x6b, 0x65, 0x79,
    0x2e, 0x70, 0x65, 0x6d,
    // os-release
    0x6f, 0x73, 0x2d, 0x72, 0x65, 0x6c, 0x65, 0x61, 0x73, 0x65,
    // profile
    0x70, 0x72, 0x6f, 0x66, 0x69, 0x6c, 0x65,
    // padding to 64 entries, so that an index masked with 63 is inside the table
    0,
  ],
);
/** ".extra/" */
const EXTRA_DIR = table('u8', [0x2e, 0x65, 0x78, 0x74, 0x72, 0x61, 0x2f]);
/** "TRAILER!!!" */
const TRAILER_NAME = table('u8', [0x54, 0x52, 0x41, 0x49, 0x4c, 0x45, 0x52, 0x21, 0x21, 0x21]);
/** newc (070701) header: magic, then 13 fields of 8 hex digits; the stub's modes and its upper-case trailer B. */
export const NEWC_HEADER = 110;
export const DIR_MODE_EXTRA = 0o40555;
export const FILE_MODE_EXTRA = 0o100444;

/**
 * Writes a newc header at HDR+at with the stub's fields (uid/gid/mtime/dev 0, nlink 1): the magic, then
 * its 8-digit hex fields and the two bytes after them ("0") one digit per newcDigitStep, a bpf_loop
 * callback, so the digits are verified once rather than once per header written.
 */
function newcHeader(scr: Bytes, at: u32, ino: u32, mode: u32, fileSize: u32, nameSize: u32): void {
  const base = HDR + (at & 255);
  scr.setU32(base, 0x37303730); // "070701"
  scr.setU16(base + 4, 0x3130);
  scr.setU32(N_AT, at & 255);
  scr.setU32(N_INO, ino);
  scr.setU32(N_MODE, mode);
  scr.setU32(N_FILESIZE, fileSize);
  scr.setU32(N_NAMESIZE, nameSize);
  bpfLoop(NEWC_HEADER + 2 - 6, newcDigitStep);
}

/** Digit `j` after the magic: field j/8 (ino 0, mode 1, nlink 4, filesize 6, namesize 11; others 0), high nibble first. */
const newcDigitStep = noinline((j: u32): boolean => {
  const scr = kexec_scratch.lookup(0);
  if (scr === null) return true;
  const f = (j >>> 3) & 15;
  const v = sel(
    eq(f, 0),
    scr.u32(N_INO),
    sel(
      eq(f, 1),
      scr.u32(N_MODE),
      sel(eq(f, 4), 1, sel(eq(f, 6), scr.u32(N_FILESIZE), sel(eq(f, 11), scr.u32(N_NAMESIZE), 0))),
    ),
  );
  const nib = (v >>> (28 - (j & 7) * 4)) & 15;
  scr.setU8(HDR + (scr.u32(N_AT) & 255) + 6 + (j & 127), nib + 0x30 + ((9 - nib) >>> 31) * 39);
  return false;
});

/** Byte `j` of the literal file's name after ".extra/" (literalPiece), zero past its end: a bpf_loop callback. */
const literalNameStep = noinline((j: u32): boolean => {
  const scr = kexec_scratch.lookup(0);
  if (scr === null) return true;
  const at = scr.u32(N_NAMEAT);
  const c = j < (scr.u32(N_NAMELEN) & 31) ? LITERAL_NAMES.at((at + j) & 63) : 0;
  scr.setU8(HDR + 120 + NEWC_HEADER + 7 + (j & 31), c);
  return false;
});

/** The `.extra/<file>` archive of the view's section (pack_cpio_literal) as one initrd piece. 0 or -errno. */
function literalPiece(img: Bytes, scr: Bytes, zero: Bytes, k: u32): i32 {
  const w = LITERAL_SECTION.at(k & 3);
  const vs = sizeOf(img, scr, w);
  if (vs === 0) return 0;
  // kept in the scratch map across the header loops below (see the report on register allocation)
  scr.setU32(STATE + 60, rawOf(img, scr, w) & (IMAGE_MAX - 1));
  scr.setU32(STATE + 64, ptrOf(img, scr, w));
  scr.setU32(STATE + 68, vs);
  const nameAt = LITERAL_NAME_AT.at(k & 3);
  const nameLen = u32(LITERAL_NAME_AT.at((k & 3) + 1) - nameAt) & 31;
  // ".extra" directory: 110 + 7 bytes of name, padded to 120
  newcHeader(scr, 0, 1, DIR_MODE_EXTRA, 0, 7);
  for (let j: u32 = 0; j < 6; j++) scr.setU8(HDR + NEWC_HEADER + j, EXTRA_DIR.at(j));
  for (let j: u32 = 6; j < 10; j++) scr.setU8(HDR + NEWC_HEADER + j, 0);
  // the file: 110 + ".extra/" + name + NUL, padded to 4
  newcHeader(scr, 120, 2, FILE_MODE_EXTRA, vs, 8 + nameLen);
  for (let j: u32 = 0; j < 7; j++) scr.setU8(HDR + 120 + NEWC_HEADER + j, EXTRA_DIR.at(j));
  scr.setU32(N_NAMEAT, nameAt);
  scr.setU32(N_NAMELEN, nameLen);
  bpfLoop(32, literalNameStep);
  const head = (120 + NEWC_HEADER + 8 + nameLen + 3) & 0x1fc;
  const p = padPiece(zero, scr);
  if (p < 0) return p;
  const r1 = carrier('initrd', scr.sub(HDR, 512), head, APPEND_DIR);
  if (r1 < 0) return r1;
  const n = scr.u32(STATE + 60) & (IMAGE_MAX - 1);
  const r2 = carrier('initrd', img.sub(scr.u32(STATE + 64) & (IMAGE_MAX - 1), IMAGE_MAX), n, APPEND_DIR);
  if (r2 < 0) return r2;
  const size = scr.u32(STATE + 68);
  const z = initrdZeros(zero, u32(size - n + ((4 - (size & 3)) & 3)));
  if (z < 0) return z;
  // the stub's trailer: ino 0, mode 0, c_namesize "0000000B"
  newcHeader(scr, 0, 0, 0, 0, 11);
  scr.setU8(HDR + 6 + 11 * 8 + 7, 0x42);
  for (let j: u32 = 0; j < 10; j++) scr.setU8(HDR + NEWC_HEADER + j, TRAILER_NAME.at(j));
  for (let j: u32 = 10; j < 14; j++) scr.setU8(HDR + NEWC_HEADER + j, 0);
  const r3 = carrier('initrd', scr.sub(HDR, 512), NEWC_HEADER + 14, APPEND_DIR);
  if (r3 < 0) return r3;
  scr.setU32(S_TOTAL, u32(scr.u32(S_TOTAL) + head + ((size + 3) & 0x7ffffffc) + NEWC_HEADER + 14));
  scr.setU32(S_PIECES, scr.u32(S_PIECES) + 1);
  return 0;
}

/** Suffixes, lower case: ".addon.efi" 0, ".cred" 10, ".confext.raw" 15, ".raw" 27 (formats/cpio SIDECARS, stub addons). */
const SUFFIXES = table(
  'u8',
  [
    0x2e, 0x61, 0x64, 0x64, 0x6f, 0x6e, 0x2e, 0x65, 0x66, 0x69, 0x2e, 0x63, 0x72, 0x65, 0x64, 0x2e, 0x63, 0x6f, 0x6e,
    0x66, 0x65, 0x78, 0x74, 0x2e, 0x72, 0x61, 0x77, 0x2e, 0x72, 0x61, 0x77,
  ],
);

/** 1 when name[0..len) ends with SUFFIXES[at, at+n), ASCII letters case-insensitively. */
function endsWith(name: Bytes, len: u32, at: u32, n: u32): u32 {
  let m: u32 = lt(n - 1, len);
  for (let k: u32 = 0; k < 12 && k < n; k++) {
    const c = name.u8((len - n + k) & 255);
    m = u32(m & eq(c | 0x20, SUFFIXES.at((at + k) & 31)) & lt(0x1f, c));
  }
  return m;
}

/** One byte of an addon-name map slot (classifySlots): its name's length and whether it is ASCII. */
const slotNameStep = noinline((i: u32): boolean => {
  const scr = kexec_scratch.lookup(0);
  if (scr === null) return true;
  const v = kexec_addons.lookup(scr.u32(C_SLOT) & 15);
  if (v === null) return true;
  const b = v.u8(i & 255);
  const nul = isZero(b);
  const open = scr.u32(C_OPEN) & 1;
  scr.setU32(C_LEN, sel(u32(open & nul), i & 255, scr.u32(C_LEN)));
  scr.setU32(C_HIGH, u32(scr.u32(C_HIGH) | (open & (nul ^ 1) & (b >>> 7))));
  scr.setU32(C_OPEN, u32(open & (nul ^ 1)));
  return nul === 1;
});

/**
 * What each addon-name map slot holds (the stub's directory filter: no leading `.`, ASCII, at most 255
 * characters; the first empty slot ends the list): K_ADDON, K_CRED, K_SYSEXT, K_CONFEXT or K_NONE.
 */
function classifySlots(scr: Bytes): void {
  scr.setU32(STATE + 52, 0);
  bpfLoop(16, classifyStep);
}

/** Slot `j` of classifySlots, a bpf_loop callback (verified once, not once per slot): its kind into SLOT_KIND. */
const classifyStep = noinline((j: u32): boolean => {
  const scr = kexec_scratch.lookup(0);
  if (scr === null) return true;
  const slot = j & 15;
  scr.setU32(SLOT_KIND + slot * 4, K_NONE);
  const v = kexec_addons.lookup(slot);
  if (v !== null) {
    scr.setU32(C_SLOT, slot);
    scr.setU32(C_LEN, 256);
    scr.setU32(C_OPEN, 1);
    scr.setU32(C_HIGH, 0);
    bpfLoop(256, slotNameStep);
    const len = scr.u32(C_LEN) & 511;
    const high = scr.u32(C_HIGH) & 1;
    const ended = scr.u32(STATE + 52) | isZero(len);
    scr.setU32(STATE + 52, ended);
    const ok = u32((ended ^ 1) & lt(len, 256) & (eq(v.u8(0), 0x2e) ^ 1) & (high ^ 1));
    // each verdict goes to the scratch map at once (see the report: values held across inlined loops)
    scr.setU32(STATE + 72, ok);
    scr.setU32(STATE + 76, len);
    scr.setU32(STATE + 80, endsWith(v, scr.u32(STATE + 76) & 511, 0, 10));
    scr.setU32(STATE + 84, endsWith(v, scr.u32(STATE + 76) & 511, 10, 5));
    scr.setU32(STATE + 88, endsWith(v, scr.u32(STATE + 76) & 511, 15, 12));
    scr.setU32(STATE + 92, endsWith(v, scr.u32(STATE + 76) & 511, 27, 4));
    const kind = sel(
      scr.u32(STATE + 80) & 1,
      K_ADDON,
      sel(
        scr.u32(STATE + 84) & 1,
        K_CRED,
        sel(scr.u32(STATE + 88) & 1, K_CONFEXT, sel(scr.u32(STATE + 92) & 1, K_SYSEXT, K_NONE)),
      ),
    );
    scr.setU32(SLOT_KIND + slot * 4, sel(scr.u32(STATE + 72) & 1, kind, K_NONE));
  }
  return false;
});

/** One sidecar archive: every slot of `kind`, supplemented into its directory (one archive per directory). */
function sidecarPiece(scr: Bytes, kind: u32): void {
  scr.setU32(STATE + 56, 0);
  scr.setU32(S_KIND, kind);
  bpfLoop(16, sidecarStep);
}

/** Slot `j` of sidecarPiece, a bpf_loop callback (verified once, not once per slot and kind). */
const sidecarStep = noinline((j: u32): boolean => {
  const scr = kexec_scratch.lookup(0);
  if (scr === null) return true;
  const v = kexec_addons.lookup(j & 15);
  const kind = scr.u32(S_KIND);
  if (v !== null && scr.u32(SLOT_KIND + (j & 15) * 4) === kind) {
    const r =
      kind === K_CRED
        ? supplementInitrd('/.extra/credentials', v, 256)
        : kind === K_SYSEXT
          ? supplementInitrd('/.extra/sysext', v, 256)
          : supplementInitrd('/.extra/confext', v, 256);
    // a file the kernel cannot supply is left out, as the stub leaves out what it cannot read
    if (r > 0) {
      scr.setU32(S_TOTAL, scr.u32(S_TOTAL) + u32(r));
      if (scr.u32(STATE + 56) === 0) scr.setU32(S_PIECES, scr.u32(S_PIECES) + 1);
      scr.setU32(STATE + 56, 1);
    }
  }
  return false;
});

/** 8 hex digits (either case) at v[at..at+8). */
function hexAt(v: Bytes, at: u32): u32 {
  let x: u32 = 0;
  for (let j: u32 = 0; j < 8; j++) {
    const c = v.u8(at + j);
    const letter = lt(0x39, c);
    x = u32((x << 4) | (sel(letter, u32((c | 0x20) - 0x57), u32(c - 0x30)) & 15));
  }
  return x;
}

/** A field of the addon's section of 1-based index `idx`. */
function addonField(ad: Bytes, scr: Bytes, idx: u32, field: u32): u32 {
  return ad.u32(((scr.u32(ASTATE) + u32(idx - 1) * SECTION_SIZE) & (ADDONS_SPAN - 1)) + field);
}

/** 1 when the view's `.uname` and the addon's (section `idx`) agree as the stub's strncmp over the addon's size. */
function unameAgrees(ad: Bytes, scr: Bytes, idx: u32): u32 {
  scr.setU32(A_VS, addonField(ad, scr, idx, SEC_VIRTUAL_SIZE));
  scr.setU32(A_RAW, addonField(ad, scr, idx, SEC_SIZE_OF_RAW_DATA));
  scr.setU32(A_PTR, addonField(ad, scr, idx, SEC_POINTER_TO_RAW_DATA));
  scr.setU32(A_DONE, 0);
  scr.setU32(A_DIFFER, 0);
  bpfLoop(UNAME_MAX, unameStep);
  return isZero(scr.u32(A_DIFFER));
}

/** Byte `i` of the `.uname` comparison (unameAgrees), a bpf_loop callback; the addon is at ASTATE+104 in kexec_initrd. */
const unameStep = noinline((i: u32): boolean => {
  const scr = kexec_scratch.lookup(0);
  const ini = kexec_initrd.lookup(0);
  if (scr === null || ini === null) return true;
  const base = scr.u32(ASTATE + 104);
  if (base > INITRD_MAX + ADDONS_SPAN) return true; // addonBody checked it
  const ad = ini.sub(base, ADDONS_SPAN);
  const done = scr.u32(A_DONE) & 1;
  const x = scr.u8(UNB + (i & (UNAME_MAX - 1)));
  const y = sel(lt(i, scr.u32(A_RAW)), ad.u8((scr.u32(A_PTR) + i) & (ADDONS_SPAN - 1)), 0);
  const live = u32(lt(i, scr.u32(A_VS)) & (done ^ 1));
  scr.setU32(A_DIFFER, u32(scr.u32(A_DIFFER) | (live & (eq(x, y) ^ 1))));
  scr.setU32(A_DONE, u32(done | (live & ((eq(x, y) ^ 1) | isZero(x)))));
  return false;
});

/**
 * The view's `.uname` (its first UNAME_MAX bytes, zero-filled) into UNB, and whether it is set: copied
 * through the kernel resource (the bounce buffer), then the bytes past the section cleared.
 */
function copyUname(img: Bytes, scr: Bytes): i32 {
  const vsU = sizeOf(img, scr, 4);
  const ptrU = ptrOf(img, scr, 4) & (IMAGE_MAX - 1);
  const o = carrier('kernel', img.sub(ptrU, IMAGE_MAX), UNAME_MAX, OUT);
  if (o < 0) return o;
  const back = carrier('kernel', scr.sub(UNB, UNAME_MAX), UNAME_MAX, IN);
  if (back < 0) return back;
  scr.setU32(U_LIMIT, minU32(rawOf(img, scr, 4), vsU));
  bpfLoop(UNAME_MAX, unameClearStep);
  scr.setU32(S_UNAME, isZero(vsU) ^ 1);
  return 0;
}

/** Byte `i` of UNB (copyUname): zero past the section's bytes in the file. */
const unameClearStep = noinline((i: u32): boolean => {
  const scr = kexec_scratch.lookup(0);
  if (scr === null) return true;
  const j = i & (UNAME_MAX - 1);
  scr.setU8(UNB + j, sel(lt(j, scr.u32(U_LIMIT)), scr.u8(UNB + j), 0));
  return false;
});

/**
 * Section `i` of an addon (addonBody; a bpf_loop callback, so verified once): the first sized section of
 * each name, and whether a section's raw data leaves the file. The addon is read back in kexec_initrd at
 * ASTATE+104.
 */
const addonSectionStep = noinline((i: u32): boolean => {
  const scr = kexec_scratch.lookup(0);
  const ini = kexec_initrd.lookup(0);
  if (scr === null || ini === null) return true;
  const base = scr.u32(ASTATE + 104);
  if (base > INITRD_MAX + ADDONS_SPAN) return true; // addonBody checked it
  const ad = ini.sub(base, ADDONS_SPAN);
  const sectab = scr.u32(ASTATE) & (ADDONS_SPAN - 1);
  const len = scr.u32(ASTATE + 8) & (ADDONS_SPAN - 1);
  const headers = scr.u32(ASTATE + 48);
  const h = (sectab + (i & (ADDON_SECTIONS_MAX - 1)) * SECTION_SIZE) & (ADDONS_SPAN - 1);
  if (h > ADDONS_SPAN - SECTION_SIZE) return true; // readHeaders put the table inside the file
  const lo = ad.u32(h);
  const hi = ad.u32(h + 4);
  const raw = ad.u32(h + SEC_SIZE_OF_RAW_DATA);
  const ptr = ad.u32(h + SEC_POINTER_TO_RAW_DATA);
  const big = isZero(u32((raw | ptr) >>> 24)) ^ 1;
  const out = lt(len, (ptr & (ADDONS_SPAN - 1)) + (raw & (ADDONS_SPAN - 1))) | lt(ptr, headers & 0x7fffffff) | big;
  scr.setU32(S_ABAD, u32(scr.u32(S_ABAD) | ((isZero(raw) ^ 1) & out)));
  // set: VirtualSize non-zero, as the stub's view keeps only sized sections
  const set = isZero(ad.u32(h + SEC_VIRTUAL_SIZE)) ^ 1;
  for (let w: u32 = 0; w < A_NAMES; w++) {
    const nlo = w < 5 ? NAME_LO.at(w) : DTB_LO;
    const nhi = w < 5 ? NAME_HI.at(w) : sel(eq(w, 6), DTB_HI, 0);
    const nmask = w < 5 ? NAME_MASK.at(w) : sel(eq(w, 6), 0xffffffff, 0xff);
    const m = set & eq(lo, nlo) & eq(u32(hi & nmask), nhi);
    const b = scr.u32(ABASE + w * 4);
    scr.setU32(ABASE + w * 4, sel(u32(m & isZero(b)), (i & 0xff) + 1, b));
  }
  return false;
});

/**
 * One PE addon, just archived by bpf_helper_supplement_initrd at the first 4-byte boundary after the
 * initrd's `t` bytes (`r` bytes appended): reads the initrd back, puts it back as it was, finds the
 * file in the newc archive, checks its headers and sections as the stub would take it, appends its
 * mangled `.cmdline` to the addon line and its `.initrd` to the initrd. A skipped addon leaves no trace.
 */
function addonBody(ini: Bytes, scr: Bytes, zero: Bytes, t: u32, r: u32, k: u32): i32 {
  if (t > INITRD_MAX + ADDONS_SPAN || r > INITRD_MAX + ADDONS_SPAN - t) return -EFBIG;
  // t + r fit below STASH, so the addon .ucode kept there survives (and a helper's size must stay below
  // 2^29, the verifier's BPF_MAX_VAR_SIZ)
  const got = carrier('initrd', ini, INITRD_MAX + ADDONS_SPAN, IN);
  if (got < 0) return got;
  const back = carrier('initrd', ini, t, OUT);
  if (back < 0) return back;
  const a = (t + 3) & 0x7ffffffc;
  if (a > INITRD_MAX + ADDONS_SPAN) return -EFBIG;
  // entries: ".extra" (120 bytes), ".extra/addons" (124), the file; its file size and name size
  const fileSize = hexAt(ini, a + 244 + 6 + 6 * 8);
  const nameSize = hexAt(ini, a + 244 + 6 + 11 * 8) & 511;
  const data = (244 + NEWC_HEADER + nameSize + 3) & 0xffc;
  if (fileSize > r || data + fileSize > r) return -EINVAL;
  const base = a + data;
  if (base > INITRD_MAX + ADDONS_SPAN) return -EFBIG;
  scr.setU32(ASTATE + 104, base);
  const ad = ini.sub(base, ADDONS_SPAN);
  if (readHeaders(ad, scr, fileSize & (ADDONS_SPAN - 1), ASTATE) < 0) return 0; // not a PE: skipped
  if (scr.u32(ASTATE + 96) !== scr.u32(STATE + 96)) return 0; // not native
  const nsec = scr.u32(ASTATE + 4) & 0xffff;
  if (nsec === 0) return 0;
  if (nsec > ADDON_SECTIONS_MAX) return -E2BIG;
  for (let w: u32 = 0; w < 8; w++) scr.setU32(ABASE + w * 4, 0);
  scr.setU32(S_ABAD, 0);
  bpfLoop(nsec, addonSectionStep);
  const bad = scr.u32(S_ABAD);
  if (bad !== 0) return 0; // section data outside the file: the firmware refuses it
  if (scr.u32(ABASE + W_LINUX * 4) !== 0) return 0;
  const payload =
    scr.u32(ABASE + W_CMDLINE * 4) |
    scr.u32(ABASE + W_INITRD * 4) |
    scr.u32(ABASE + W_UCODE * 4) |
    scr.u32(ABASE + 20) |
    scr.u32(ABASE + 24);
  if (payload === 0) return 0;
  const un = scr.u32(ABASE + 16);
  if (un !== 0 && scr.u32(S_UNAME) !== 0 && unameAgrees(ad, scr, un) === 0) return 0;
  // the .ucode piece, kept past the initrd read back (STASH) until all addons are seen: the pieces go
  // first, in reverse addon order; the kernel resource, written at the end, is the bounce buffer
  const ui = scr.u32(ABASE + W_UCODE * 4);
  if (ui !== 0) {
    const vs = addonField(ad, scr, ui, SEC_VIRTUAL_SIZE);
    const n = minU32(vs, addonField(ad, scr, ui, SEC_SIZE_OF_RAW_DATA)) & (ADDONS_SPAN - 1);
    const sc = scr.u32(S_STASH) & (STASH_SPAN - 1);
    if (n > STASH_SPAN - sc) return -EFBIG;
    const at = (base & (INITRD_MAX * 2 - 1)) + addonField(ad, scr, ui, SEC_POINTER_TO_RAW_DATA);
    if (at > INITRD_MAX + ADDONS_SPAN) return -EFBIG;
    const o = carrier('kernel', ini.sub(at, ADDONS_SPAN), n, OUT);
    if (o < 0) return o;
    const i = carrier('kernel', ini.sub(STASH + sc, STASH_SPAN), n, IN);
    if (i < 0) return i;
    const rec = UREC + (k & (ADDONS_MAX - 1)) * 12;
    scr.setU32(rec, sc);
    scr.setU32(rec + 4, n);
    scr.setU32(rec + 8, vs);
    scr.setU32(S_STASH, sc + n);
  }
  // the .initrd piece's place, size and raw bytes, noted before the command line work
  const ii = scr.u32(ABASE + W_INITRD * 4);
  scr.setU32(ASTATE + 108, 0);
  if (ii !== 0) {
    const vs = addonField(ad, scr, ii, SEC_VIRTUAL_SIZE);
    scr.setU32(ASTATE + 108, vs);
    scr.setU32(ASTATE + 112, minU32(vs, addonField(ad, scr, ii, SEC_SIZE_OF_RAW_DATA)));
    scr.setU32(ASTATE + 116, (base & (INITRD_MAX * 2 - 1)) + addonField(ad, scr, ii, SEC_POINTER_TO_RAW_DATA));
  }
  const ci = scr.u32(ABASE + W_CMDLINE * 4);
  if (ci !== 0) {
    const n = minU32(addonField(ad, scr, ci, SEC_VIRTUAL_SIZE), addonField(ad, scr, ci, SEC_SIZE_OF_RAW_DATA));
    if (n > ADDON_CMDLINE_MAX - 1) return -E2BIG;
    const at = (scr.u32(ASTATE + 104) & (INITRD_MAX * 2 - 1)) + addonField(ad, scr, ci, SEC_POINTER_TO_RAW_DATA);
    if (at > INITRD_MAX + ADDONS_SPAN) return -EFBIG;
    // the cmdline resource is a bounce buffer here: it is written for good at the end
    const o = carrier('cmdline', ini.sub(at, ADDONS_SPAN), n, OUT);
    if (o < 0) return o;
    const bounced = carrier('cmdline', scr.sub(ATMP, ADDON_CMDLINE_MAX), n, IN);
    if (bounced < 0) return bounced;
    scr.setU8(ATMP + (n & (ADDON_CMDLINE_MAX - 1)), 0);
    // one space before each further piece, even an empty one; the line is trimmed at the end
    const l0 = scr.u32(S_ADDLEN) & (SRC_MAX - 1);
    const l = u32(l0 + (isZero(l0) ^ 1)) & (SRC_MAX - 1);
    scr.setU8(ADDL + l0, 0x20);
    const m = mangle(scr, 1, 0, 1, l, ADDON_CMDLINE_MAX, n, 1);
    if (l + m > SRC_MAX - 1) return -E2BIG;
    scr.setU32(S_ADDLEN, l + m);
    const empty = isZero(scr.u32(S_AEND));
    const some = u32(isZero(m) ^ 1) & 1;
    scr.setU32(S_ASTART, sel(u32(empty & some), l, scr.u32(S_ASTART)));
    scr.setU32(S_AEND, sel(some, u32(l + m), scr.u32(S_AEND)));
  }
  const vs = scr.u32(ASTATE + 108);
  if (vs !== 0) {
    const n = scr.u32(ASTATE + 112) & (ADDONS_SPAN - 1);
    const at = scr.u32(ASTATE + 116);
    if (at > INITRD_MAX + ADDONS_SPAN) return -EFBIG;
    const p = padPiece(zero, scr);
    if (p < 0) return p;
    const ap = carrier('initrd', ini.sub(at, ADDONS_SPAN), n, APPEND_DIR);
    if (ap < 0) return ap;
    const z = initrdZeros(zero, u32(vs - n));
    if (z < 0) return z;
    scr.setU32(S_TOTAL, scr.u32(S_TOTAL) + vs);
    scr.setU32(S_PIECES, scr.u32(S_PIECES) + 1);
  }
  return 0;
}

/** addonBody as a subprogram: the paths through one addon meet again at its return. */
/**
 * The k-th PE addon of the map (see addonBody), a subprogram: every path through one addon, taken or
 * skipped, ends at its return, so the loop over the addons walks one path per addon.
 */
const addonOne = noinline((k: u32): i32 => {
  const ini = kexec_initrd.lookup(0);
  const scr = kexec_scratch.lookup(0);
  const zero = kexec_zero.lookup(0);
  if (ini === null || scr === null || zero === null) return -ENOMEM;
  if (k >= scr.u32(S_NADDONS)) return 0;
  const v = kexec_addons.lookup(scr.u32(ALIST + k * 4) & 15);
  if (v === null) return 0;
  // a file the kernel refuses (signature, missing) is left out, as the stub skips what shim refuses
  const r = supplementInitrd('/.extra/addons', v, 256);
  if (r <= 0) return 0;
  return addonBody(ini, scr, zero, scr.u32(S_TOTAL), u32(r), k);
});

/**
 * The PE addons (docs/ABI.md §10), the first ADDONS_MAX in map order: each is signature-checked and
 * archived by bpf_helper_supplement_initrd after the initrd built so far, read back and parsed there,
 * and the initrd is put back. 0 or -errno.
 */
function addonPass(scr: Bytes): i32 {
  scr.setU32(S_ADDLEN, 0);
  scr.setU32(S_ASTART, 0);
  scr.setU32(S_AEND, 0);
  let n: u32 = 0;
  for (let j: u32 = 0; j < 16; j++) {
    scr.setU32(ALIST + (n & 15) * 4, j);
    n = (n + eq(scr.u32(SLOT_KIND + j * 4), K_ADDON)) & 31;
  }
  if (n > ADDONS_MAX) return -E2BIG;
  scr.setU32(S_NADDONS, n);
  scr.setU32(S_STASH, 0);
  for (let k: u32 = 0; k < ADDONS_MAX; k++) scr.setU32(UREC + k * 12 + 8, 0);
  scr.setU32(S_AERR, 0);
  bpfLoop(n, addonStep);
  return i32(scr.u32(S_AERR));
}

/** Addon `k` of addonPass, a bpf_loop callback (verified once, not once per addon): an error stops the loop. */
const addonStep = noinline((k: u32): boolean => {
  const a = addonOne(k & (ADDONS_MAX - 1));
  if (a >= 0) return false;
  const scr = kexec_scratch.lookup(0);
  if (scr !== null) scr.setU32(S_AERR, u32(a));
  return true;
});

/**
 * The addons' `.ucode` pieces go first, last addon first: the initrd built so far is read back, and
 * written again after them. 0 or -errno.
 */
function addonUcodes(ini: Bytes, scr: Bytes, zero: Bytes): i32 {
  let count: u32 = 0;
  for (let k: u32 = 0; k < ADDONS_MAX; k++) count = u32(count + (isZero(scr.u32(UREC + k * 12 + 8)) ^ 1)) & 31;
  if (count === 0) return 0;
  const t = scr.u32(S_TOTAL);
  if (t > INITRD_MAX + ADDONS_SPAN) return -EFBIG;
  const got = carrier('initrd', ini, t, IN);
  if (got < 0) return got;
  const e = carrier('initrd', zero, 0, OUT);
  if (e < 0) return e;
  // several pieces: each of them is padded
  const several = lt(1, u32(scr.u32(S_PIECES) + count) & 0xffff);
  let total: u32 = 0;
  for (let j: u32 = 0; j < ADDONS_MAX; j++) {
    const rec = UREC + (ADDONS_MAX - 1 - j) * 12;
    const vs = scr.u32(rec + 8) & (ZERO_CHUNK - 1);
    if (vs !== 0) {
      const n = scr.u32(rec + 4) & (STASH_SPAN - 1);
      const r = carrier('initrd', ini.sub(STASH + (scr.u32(rec) & (STASH_SPAN - 1)), STASH_SPAN), n, APPEND_DIR);
      if (r < 0) return r;
      const pad = sel(several, (4 - (vs & 3)) & 3, 0);
      const z = initrdZeros(zero, u32(vs - n + pad));
      if (z < 0) return z;
      total = (total + vs + pad) & 0x7fffffff;
    }
  }
  const back = carrier('initrd', ini, scr.u32(S_TOTAL) & (INITRD_MAX * 2 - 1), APPEND_DIR);
  if (back < 0) return back;
  scr.setU32(S_TOTAL, scr.u32(S_TOTAL) + total);
  scr.setU32(S_PIECES, scr.u32(S_PIECES) + count);
  return 0;
}

/** Builds kernel, initrd and command line; 0 or -errno (the step that failed is in the detail tag). */
function unpack(img: Bytes, ini: Bytes, scr: Bytes, zero: Bytes, res: Bytes): i32 {
  res.setU32(RES_DETAIL, 0x00006570); // "pe"
  const len = carrier('kernel', img, 0, IN);
  if (len < 0) return len;
  if (len > IMAGE_MAX) return -EFBIG;
  const got = carrier('kernel', img, IMAGE_MAX, IN);
  if (got < 0) return got;
  const h = readHeaders(img, scr, u32(got), STATE);
  if (h < 0) return h;
  res.setU32(RES_DETAIL, 0x646d63); // "cmd"
  const u = readUserCmdline(scr);
  if (u < 0) return u;
  res.setU32(RES_DETAIL, 0x666f7270); // "prof"
  const profile = scr.u32(S_PROFILE);
  const count = scanSections(img, scr, profile);
  if (count < 0) return count;
  if (profile !== 0 && profile >= u32(count)) return -ENOENT;
  res.setU32(RES_DETAIL, 0x78756e6c); // "lnux"
  const vs = sizeOf(img, scr, W_LINUX);
  if (vs === 0) return -ENOEXEC;

  // the command line: the user's (after the prefix) unless it is ignored or empty, else the view's .cmdline
  res.setU32(RES_DETAIL, 0x646d63); // "cmd"
  // where the source starts is kept in the scratch map, so both ways join in one verifier state
  if (scr.u32(S_USERTEXT) === 0) {
    scr.setU32(S_REST, 0);
    const n = rawOf(img, scr, W_CMDLINE) & (IMAGE_MAX - 1);
    if (n > SRC_MAX - 1) return -E2BIG;
    const r = carrier('cmdline', img.sub(ptrOf(img, scr, W_CMDLINE) & (IMAGE_MAX - 1), IMAGE_MAX), n, OUT);
    if (r < 0) return r;
    const back = carrier('cmdline', scr.sub(SRC, SRC_MAX), n, IN);
    if (back < 0) return back;
    scr.setU8(SRC + n, 0);
    scr.setU32(S_SRCLEN, n);
  }
  const conv = isZero(scr.u32(S_USERTEXT));
  scr.setU32(S_CLEN, mangle(scr, 0, scr.u32(S_REST) & 0xff, 0, 0, SRC_MAX, scr.u32(S_SRCLEN) & (SRC_MAX - 1), conv));

  // the initrd: .ucode, the user's initrd, .initrd, sidecars, section archives
  res.setU32(RES_DETAIL, 0x74696e69); // "init"
  classifySlots(scr);
  let prev: i32 = carrier('initrd', ini, 0, IN);
  if (prev < 0) prev = 0; // no initrd (-ENOENT)
  if (prev > INITRD_MAX) return -EFBIG;
  const p = prev === 0 ? 0 : carrier('initrd', ini, u32(prev) & (INITRD_MAX * 2 - 1), IN);
  if (p < 0) return p;
  const empty = carrier('initrd', zero, 0, OUT);
  if (empty < 0) return empty;
  scr.setU32(S_TOTAL, 0);
  scr.setU32(S_PIECES, 0);
  const uc = sectionPiece(img, scr, zero, W_UCODE);
  if (uc < 0) return uc;
  if (p > 0) {
    const pp = padPiece(zero, scr);
    if (pp < 0) return pp;
    const r = carrier('initrd', ini, u32(p) & (INITRD_MAX - 1), APPEND_DIR);
    if (r < 0) return r;
    scr.setU32(S_TOTAL, scr.u32(S_TOTAL) + (u32(p) & (INITRD_MAX - 1)));
    scr.setU32(S_PIECES, scr.u32(S_PIECES) + 1);
  }
  const ir = sectionPiece(img, scr, zero, W_INITRD);
  if (ir < 0) return ir;
  res.setU32(RES_DETAIL, 0x65646973); // "side"
  sidecarPiece(scr, K_CRED);
  sidecarPiece(scr, K_SYSEXT);
  sidecarPiece(scr, K_CONFEXT);
  for (let k: u32 = 0; k < 4; k++) {
    const l = literalPiece(img, scr, zero, k);
    if (l < 0) return l;
  }
  res.setU32(RES_DETAIL, 0x6e646461); // "addn"
  const cu = copyUname(img, scr);
  if (cu < 0) return cu;
  const ap = addonPass(scr);
  if (ap < 0) return ap;
  const up = addonUcodes(ini, scr, zero);
  if (up < 0) return up;
  // several pieces: the last one is padded too
  const tail = (4 - (scr.u32(S_TOTAL) & 3)) & 3;
  if (scr.u32(S_PIECES) > 1 && tail !== 0) {
    const t = carrier('initrd', zero, tail, APPEND_DIR);
    if (t < 0) return t;
  }

  // the command line, then one space and the addon line (trimmed) when there is one
  res.setU32(RES_DETAIL, 0x646d63); // "cmd"
  const clen = scr.u32(S_CLEN) & (SRC_MAX - 1);
  const as = scr.u32(S_ASTART) & (SRC_MAX - 1);
  const an = u32(scr.u32(S_AEND) - as) & (SRC_MAX - 1);
  const gap = u32((isZero(clen) | isZero(an)) ^ 1) & 1;
  scr.setU8(OUTB + clen, 0x20);
  const head = clen + gap;
  if (head + an === 0) {
    const co = carrier('cmdline', zero, 0, OUT);
    if (co < 0) return co;
  } else {
    const c1 = carrier('cmdline', scr.sub(OUTB, 8192), head, OUT);
    if (c1 < 0) return c1;
    const c2 = carrier('cmdline', scr.sub(ADDL + as, SRC_MAX), an, APPEND_DIR);
    if (c2 < 0) return c2;
    const c3 = carrier('cmdline', zero, 1, APPEND_DIR);
    if (c3 < 0) return c3;
  }

  // the kernel: .linux, VirtualSize bytes
  res.setU32(RES_DETAIL, 0x78756e6c); // "lnux"
  const n = rawOf(img, scr, W_LINUX) & (IMAGE_MAX - 1);
  const k = carrier('kernel', img.sub(ptrOf(img, scr, W_LINUX) & (IMAGE_MAX - 1), IMAGE_MAX), n, OUT);
  if (k < 0) return k;
  const z = kernelZeros(zero, u32(vs - n));
  if (z < 0) return z;
  res.setU32(RES_DETAIL, 0);
  return 0;
}

/** Fills the result record: format "uki", the outcome, the resources replaced. */
function report(r: Bytes, depth: u32, status: i32): void {
  r.setU32(0, RESULT_MAGIC);
  r.setU16(RES_VERSION, RESULT_VERSION);
  r.setU16(RES_FLAGS, status === 0 ? RESULT_F_KERNEL | RESULT_F_INITRD | RESULT_F_CMDLINE : 0);
  r.setU32(RES_STATUS, u32(status));
  r.setU32(RES_DEPTH, depth);
  r.setU32(RES_FORMAT, 0x00696b75); // "uki"
}

export const parse = program({ section: 'fentry.s/kexec_pe_parser_hook', license: 'GPL' }, (ctx: Context) => {
  const res = kexec_result.reserve(RESULT_SIZE);
  if (res === null) return 0;
  for (let i: u32 = 0; i < RESULT_SIZE; i += 4) res.setU32(i, 0);
  const depth = u32(ctx.arg(1));
  const ini = kexec_initrd.lookup(0);
  const scr = kexec_scratch.lookup(0);
  const zero = kexec_zero.lookup(0);
  const img = kexec_input.reserve(IMAGE_MAX * 2);
  if (ini === null || scr === null || zero === null || img === null) {
    if (img !== null) img.discard();
    report(res, depth, -ENOMEM);
    res.submit();
    return 0;
  }
  report(res, depth, unpack(img, ini, scr, zero, res));
  img.discard();
  res.submit();
  return 0;
});
