/**
 * The EFI zboot parser (issue 7): at `kexec_pe_parser_hook`, takes the kernel resource, checks its
 * zboot header (formats/kernel/zboot.ts has the same facts for the host side), decompresses the
 * payload and hands the result back as the kernel resource. Its outcome is one `kexec_bpf_result`
 * record (docs/ABI.md §4); every failure is a negative status there, and the program returns 0.
 */
import {
  arrayMap,
  type Bytes,
  carrier,
  type Context,
  decompress,
  type i32,
  IN,
  OUT,
  program,
  ringbuf,
  u32,
} from '../compiler/dsl/index.ts';

/** The largest zboot image taken in (kernel resource length). */
export const IMAGE_MAX: u32 = 1 << 25;
/** The largest payload offset: the EFI stub in front of the payload is far smaller. */
export const OFFSET_MAX: u32 = 1 << 20;
/** The largest decompressed kernel. */
export const KERNEL_MAX: u32 = 1 << 27;

/** Input records: the image (always discarded). */
export const kexec_input = ringbuf({ size: 1 << 26 });
/**
 * The decompressed kernel. Not a second input record: a helper may take at most one referenced
 * pointer (Linux's check_func_arg: `more than one arg with ref_obj_id`), and decompress reads the
 * image record, so its output must be unreferenced memory: this map's value.
 */
export const kexec_kernel = arrayMap({ valueSize: KERNEL_MAX, maxEntries: 1 });
/** One `struct kexec_bpf_result` per run. */
export const kexec_result = ringbuf({ size: 4096 });

/*
 * The DSL reads only constants of this file, so the facts below are restated here; they are exported
 * and test/parsers/zboot.test.ts checks each against its one definition (bpf/abi, formats/kernel).
 */
/** Errnos (bpf/abi E). */
export const EINVAL = 22;
export const ENOEXEC = 8;
export const EFBIG = 27;
export const ENOMEM = 12;
export const EBADMSG = 74;

/** The zboot header (formats/kernel ZBOOT): "MZ\0\0", "zimg", payload offset and size, type string. */
export const MZ = 0x00005a4d;
export const ZIMG = 0x676d697a;
export const HEADER_SIZE = 0x40;
export const OFF_IMAGE_TYPE = 0x04;
export const OFF_PAYLOAD_OFFSET = 0x08;
export const OFF_PAYLOAD_SIZE = 0x0c;
export const OFF_COMP_TYPE = 0x18;

/** struct kexec_bpf_result (bpf/abi KEXEC_BPF_RESULT): size, magic, version, the KERNEL flag, offsets. */
export const RESULT_SIZE = 64;
export const RESULT_MAGIC = 0x5242584b;
export const RESULT_VERSION = 1;
export const RESULT_F_KERNEL = 1;
export const RES_MAGIC = 0;
export const RES_VERSION = 4;
export const RES_FLAGS = 6;
export const RES_STATUS = 8;
export const RES_DEPTH = 12;
export const RES_FORMAT = 16;
export const RES_DETAIL = 32;

/** The compression type strings as little-endian words (formats/kernel ZBOOT_COMPRESSION_TYPES). */
const GZIP = 0x70697a67; // "gzip"
const ZSTD = 0x6474737a; // "zstd"
const TYPE_22 = 0x3232; // "22" of "zstd22"
const LZ4 = 0x00347a6c; // "lz4\0"
const LZMA = 0x616d7a6c; // "lzma"
const LZO = 0x006f7a6c; // "lzo\0"
const XZKE = 0x656b7a78; // "xzke" of "xzkern"
const RN = 0x6e72; // "rn"

/**
 * Bytes of size trailer after the payload for the type named at 0x18 (the string must end with NUL
 * where it ends): 0 for gzip, 4 for the others, -1 for a type the kernel cannot decompress.
 */
function trailerOf(img: Bytes): i32 {
  const w = img.u32(OFF_COMP_TYPE);
  if (w === GZIP && img.u8(OFF_COMP_TYPE + 4) === 0) return 0;
  if (w === ZSTD && img.u8(OFF_COMP_TYPE + 4) === 0) return 4;
  if (w === ZSTD && img.u16(OFF_COMP_TYPE + 4) === TYPE_22 && img.u8(OFF_COMP_TYPE + 6) === 0) return 4;
  if (w === LZ4 || w === LZO) return 4;
  if (w === LZMA && img.u8(OFF_COMP_TYPE + 4) === 0) return 4;
  if (w === XZKE && img.u16(OFF_COMP_TYPE + 4) === RN && img.u8(OFF_COMP_TYPE + 6) === 0) return 4;
  return -1;
}

/** Fetches, checks and decompresses the image; 0 when the kernel resource was replaced, or -errno. */
function unpack(img: Bytes, out: Bytes): i32 {
  const len = carrier('kernel', img, 0, IN);
  if (len < 0) return len;
  if (len > IMAGE_MAX) return -EFBIG;
  const got = carrier('kernel', img, IMAGE_MAX, IN);
  if (got < HEADER_SIZE) return got < 0 ? got : -ENOEXEC;
  if (img.u32(0) !== MZ || img.u32(OFF_IMAGE_TYPE) !== ZIMG) return -ENOEXEC;
  const trailer = trailerOf(img);
  if (trailer < 0) return -ENOEXEC;
  const offset = img.u32(OFF_PAYLOAD_OFFSET);
  const size = img.u32(OFF_PAYLOAD_SIZE);
  if (offset < HEADER_SIZE || offset > OFFSET_MAX) return -EINVAL;
  if (size > got || offset + size + trailer > got) return -EINVAL;
  if (size > IMAGE_MAX - OFFSET_MAX) return -EFBIG;
  // gzip ends with ISIZE (the length mod 2^32); the others are followed by a 4-byte length trailer
  if (trailer === 0 && size < 4) return -EINVAL;
  const expected = trailer === 0 ? img.u32(offset + size - 4) : img.u32(offset + size);
  if (expected === 0) return -EINVAL;
  if (expected > KERNEL_MAX) return -EFBIG;
  if (size === 0) return -EINVAL;
  const payload = img.sub(offset, IMAGE_MAX - OFFSET_MAX);
  // The DSL does not narrow ranges from the checks above; `u32(x - 1) + 1` is x for x ≥ 1 and shows
  // the compiler the helper's size ≥ 1 (the upper bound is checked against the view).
  const n = decompress(payload, u32(size - 1) + 1, out, u32(expected - 1) + 1);
  if (n < 0) return n;
  if (n !== expected) return -EBADMSG;
  const put = carrier('kernel', out, n, OUT);
  if (put < 0) return put;
  return 0;
}

/** Fills the result record: the format "zboot", the outcome, and flags KERNEL when it was replaced. */
function report(r: Bytes, depth: u32, status: i32): void {
  r.setU32(RES_MAGIC, RESULT_MAGIC);
  r.setU16(RES_VERSION, RESULT_VERSION);
  r.setU16(RES_FLAGS, status === 0 ? RESULT_F_KERNEL : 0);
  r.setU32(RES_STATUS, u32(status));
  r.setU32(RES_DEPTH, depth);
  r.setU32(RES_FORMAT, 0x6f6f627a); // "zboot"
  r.setU8(RES_FORMAT + 4, 0x74);
}

export const parse = program({ section: 'fentry.s/kexec_pe_parser_hook', license: 'GPL' }, (ctx: Context) => {
  const res = kexec_result.reserve(RESULT_SIZE);
  if (res === null) return 0;
  const depth = u32(ctx.arg(1));
  const out = kexec_kernel.lookup(0);
  const img = kexec_input.reserve(IMAGE_MAX);
  if (out === null || img === null) {
    if (img !== null) img.discard();
    report(res, depth, -ENOMEM);
    res.submit();
    return 0;
  }
  report(res, depth, unpack(img, out));
  // detail: the compression type string as the header names it (up to 8 bytes)
  res.setU32(RES_DETAIL, img.u32(OFF_COMP_TYPE));
  res.setU32(RES_DETAIL + 4, img.u32(OFF_COMP_TYPE + 4));
  img.discard();
  res.submit();
  return 0;
});
