cpioHeader:  ; section syscall, 133 insns, stack 8 bytes
; 29: const hdr = input.lookup(0);
    0: r2 = r10
    1: r2 += -8
    2: r5 = 0
    3: *(u32 *)(r2 + 0) = r5
    4: r1 = 0 ll  ; input
    6: call 1
    7: r1 = r0
; 30: if (hdr === null) return -1;
    8: if r1 != 0 goto +2
    9: r0 = -1
   10: exit
; 32: if (hdr.u32(0) !== 0x37303730 || hdr.u16(4) !== 0x3130) return -2;
   11: r2 = *(u32 *)(r1 + 0)
   12: if r2 != 925906736 goto +2
   13: r2 = *(u16 *)(r1 + 4)
   14: if r2 == 12592 goto +2
   15: r0 = -2
   16: exit
; 13: for (let k: u32 = 0; k < 8; k++) {
   17: r2 = 0
; 14: if (hexDigit(b.u8(off + k)) < 0) return false;
   18: r3 = r1
   19: r3 += r2
   20: r3 = *(u8 *)(r3 + 54)
; 6: if (c >= 48 && c <= 57) return c - 48;
   21: if r3 < 48 goto +4
   22: if r3 > 57 goto +3
   23: r4 = r3
   24: w4 -= 48
   25: goto +11
; 7: if (c >= 97 && c <= 102) return c - 87;
   26: if r3 < 97 goto +4
   27: if r3 > 102 goto +3
   28: r4 = r3
   29: w4 -= 87
   30: goto +6
; 8: if (c >= 65 && c <= 70) return c - 55;
   31: if r3 < 65 goto +4
   32: if r3 > 70 goto +3
   33: r4 = r3
   34: w4 -= 55
   35: goto +1
; 9: return -1;
   36: r4 = -1
; 14: if (hexDigit(b.u8(off + k)) < 0) return false;
   37: if r4 s>= 0 goto +2
   38: r3 = 0
   39: goto +3
; 13: for (let k: u32 = 0; k < 8; k++) {
   40: w2 += 1
   41: if r2 < 8 goto -24
; 16: return true;
   42: r3 = 1
; 33: if (!hexOk(hdr, 54) || !hexOk(hdr, 94)) return -3;
   43: if r3 == 0 goto +27
; 13: for (let k: u32 = 0; k < 8; k++) {
   44: r2 = 0
; 14: if (hexDigit(b.u8(off + k)) < 0) return false;
   45: r3 = r1
   46: r3 += r2
   47: r3 = *(u8 *)(r3 + 94)
; 6: if (c >= 48 && c <= 57) return c - 48;
   48: if r3 < 48 goto +4
   49: if r3 > 57 goto +3
   50: r4 = r3
   51: w4 -= 48
   52: goto +11
; 7: if (c >= 97 && c <= 102) return c - 87;
   53: if r3 < 97 goto +4
   54: if r3 > 102 goto +3
   55: r4 = r3
   56: w4 -= 87
   57: goto +6
; 8: if (c >= 65 && c <= 70) return c - 55;
   58: if r3 < 65 goto +4
   59: if r3 > 70 goto +3
   60: r4 = r3
   61: w4 -= 55
   62: goto +1
; 9: return -1;
   63: r4 = -1
; 14: if (hexDigit(b.u8(off + k)) < 0) return false;
   64: if r4 s>= 0 goto +2
   65: r3 = 0
   66: goto +3
; 13: for (let k: u32 = 0; k < 8; k++) {
   67: w2 += 1
   68: if r2 < 8 goto -24
; 16: return true;
   69: r3 = 1
; 33: if (!hexOk(hdr, 54) || !hexOk(hdr, 94)) return -3;
   70: if r3 != 0 goto +2
   71: r0 = -3
   72: exit
; 20: let v: u32 = 0;
   73: r2 = 0
; 21: for (let k: u32 = 0; k < 8; k++) {
   74: r3 = 0
; 22: v = u32(v * 16 + (hexDigit(b.u8(off + k)) & 15));
   75: r4 = r2
   76: r4 <<= 4
   77: r6 = r1
   78: r6 += r3
   79: r6 = *(u8 *)(r6 + 54)
; 6: if (c >= 48 && c <= 57) return c - 48;
   80: if r6 < 48 goto +4
   81: if r6 > 57 goto +3
   82: r7 = r6
   83: w7 -= 48
   84: goto +11
; 7: if (c >= 97 && c <= 102) return c - 87;
   85: if r6 < 97 goto +4
   86: if r6 > 102 goto +3
   87: r7 = r6
   88: w7 -= 87
   89: goto +6
; 8: if (c >= 65 && c <= 70) return c - 55;
   90: if r6 < 65 goto +4
   91: if r6 > 70 goto +3
   92: r7 = r6
   93: w7 -= 55
   94: goto +1
; 9: return -1;
   95: r7 = -1
; 22: v = u32(v * 16 + (hexDigit(b.u8(off + k)) & 15));
   96: r7 &= 15
   97: r2 = r4
   98: w2 += w7
; 21: for (let k: u32 = 0; k < 8; k++) {
   99: w3 += 1
  100: if r3 < 8 goto -26
; 20: let v: u32 = 0;
  101: r3 = 0
; 21: for (let k: u32 = 0; k < 8; k++) {
  102: r4 = 0
; 22: v = u32(v * 16 + (hexDigit(b.u8(off + k)) & 15));
  103: r6 = r3
  104: r6 <<= 4
  105: r7 = r1
  106: r7 += r4
  107: r7 = *(u8 *)(r7 + 94)
; 6: if (c >= 48 && c <= 57) return c - 48;
  108: if r7 < 48 goto +4
  109: if r7 > 57 goto +3
  110: r8 = r7
  111: w8 -= 48
  112: goto +11
; 7: if (c >= 97 && c <= 102) return c - 87;
  113: if r7 < 97 goto +4
  114: if r7 > 102 goto +3
  115: r8 = r7
  116: w8 -= 87
  117: goto +6
; 8: if (c >= 65 && c <= 70) return c - 55;
  118: if r7 < 65 goto +4
  119: if r7 > 70 goto +3
  120: r8 = r7
  121: w8 -= 55
  122: goto +1
; 9: return -1;
  123: r8 = -1
; 22: v = u32(v * 16 + (hexDigit(b.u8(off + k)) & 15));
  124: r8 &= 15
  125: r3 = r6
  126: w3 += w8
; 21: for (let k: u32 = 0; k < 8; k++) {
  127: w4 += 1
  128: if r4 < 8 goto -26
; 34: return i32(hexValue(hdr, 54) ^ hexValue(hdr, 94));
  129: w2 ^= w3
  130: r2 <<= 32
  131: r2 s>>= 32
  132: r0 = r2
  133: exit
