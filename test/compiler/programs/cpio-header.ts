import { arrayMap, type Bytes, i32, program, type u8, u32 } from '../../../compiler/dsl/index.ts';

export const input = arrayMap({ valueSize: 256, maxEntries: 1 });

function hexDigit(c: u8): i32 {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function hexOk(b: Bytes, off: u32): boolean {
  for (let k: u32 = 0; k < 8; k++) {
    if (hexDigit(b.u8(off + k)) < 0) return false;
  }
  return true;
}

function hexValue(b: Bytes, off: u32): u32 {
  let v: u32 = 0;
  for (let k: u32 = 0; k < 8; k++) {
    v = u32(v * 16 + (hexDigit(b.u8(off + k)) & 15));
  }
  return v;
}

/** Parses a cpio newc header at offset 0: filesize xor namesize, or a negative error. */
export const cpioHeader = program({ section: 'syscall', license: 'GPL' }, () => {
  const hdr = input.lookup(0);
  if (hdr === null) return -1;
  // "070701"
  if (hdr.u32(0) !== 0x37303730 || hdr.u16(4) !== 0x3130) return -2;
  if (!hexOk(hdr, 54) || !hexOk(hdr, 94)) return -3;
  return i32(hexValue(hdr, 54) ^ hexValue(hdr, 94));
});
