cpioHeader:  ; section syscall, 195 insns, stack 24 bytes
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
   12: if r2 == 925906736 goto +4
   13: r0 = -2
   14: exit
; 13: for (let k: u32 = 0; k < 8; k++) {
   15: r2 = 0
   16: goto +12
; 32: if (hdr.u32(0) !== 0x37303730 || hdr.u16(4) !== 0x3130) return -2;
   17: r3 = *(u16 *)(r1 + 4)
   18: if r3 != 12592 goto -6
   19: goto -5
; 33: if (!hexOk(hdr, 54) || !hexOk(hdr, 94)) return -3;
   20: r0 = -3
   21: exit
; 20: let v: u32 = 0;
   22: r3 = 0
; 21: for (let k: u32 = 0; k < 8; k++) {
   23: r4 = 0
   24: goto +81
; 13: for (let k: u32 = 0; k < 8; k++) {
   25: r6 = 0
   26: goto +40
; 33: if (!hexOk(hdr, 54) || !hexOk(hdr, 94)) return -3;
   27: if r7 != 0 goto -3
   28: goto -9
; 13: for (let k: u32 = 0; k < 8; k++) {
   29: if r2 >= 8 goto +8
; 14: if (hexDigit(b.u8(off + k)) < 0) return false;
   30: r8 = 54
   31: w8 += w2
   32: r8 += r1
   33: r8 = *(u8 *)(r8 + 0)
; 6: if (c >= 48 && c <= 57) return c - 48;
   34: if r8 >= 48 goto +14
   35: goto +11
; 13: for (let k: u32 = 0; k < 8; k++) {
   36: w2 += 1
   37: goto -9
; 16: return true;
   38: r7 = 1
   39: goto -13
; 14: if (hexDigit(b.u8(off + k)) < 0) return false;
   40: r7 = 0
   41: goto -15
   42: if r7 s< 0 goto -3
   43: goto -8
; 6: if (c >= 48 && c <= 57) return c - 48;
   44: r7 = r8
   45: r7 -= 48
   46: goto -5
; 7: if (c >= 97 && c <= 102) return c - 87;
   47: if r8 >= 97 goto +8
   48: goto +5
; 6: if (c >= 48 && c <= 57) return c - 48;
   49: if r8 <= 57 goto -6
   50: goto -4
; 7: if (c >= 97 && c <= 102) return c - 87;
   51: r7 = r8
   52: r7 -= 87
   53: goto -12
; 8: if (c >= 65 && c <= 70) return c - 55;
   54: if r8 >= 65 goto +8
   55: goto +5
; 7: if (c >= 97 && c <= 102) return c - 87;
   56: if r8 <= 102 goto -6
   57: goto -4
; 8: if (c >= 65 && c <= 70) return c - 55;
   58: r7 = r8
   59: r7 -= 55
   60: goto -19
; 9: return -1;
   61: r7 = -1
   62: goto -21
; 8: if (c >= 65 && c <= 70) return c - 55;
   63: if r8 <= 70 goto -6
   64: goto -4
; 33: if (!hexOk(hdr, 54) || !hexOk(hdr, 94)) return -3;
   65: if r2 != 0 goto -44
   66: goto -47
; 13: for (let k: u32 = 0; k < 8; k++) {
   67: if r6 >= 8 goto +8
; 14: if (hexDigit(b.u8(off + k)) < 0) return false;
   68: r7 = 94
   69: w7 += w6
   70: r7 += r1
   71: r7 = *(u8 *)(r7 + 0)
; 6: if (c >= 48 && c <= 57) return c - 48;
   72: if r7 >= 48 goto +14
   73: goto +11
; 13: for (let k: u32 = 0; k < 8; k++) {
   74: w6 += 1
   75: goto -9
; 16: return true;
   76: r2 = 1
   77: goto -13
; 14: if (hexDigit(b.u8(off + k)) < 0) return false;
   78: r2 = 0
   79: goto -15
   80: if r2 s< 0 goto -3
   81: goto -8
; 6: if (c >= 48 && c <= 57) return c - 48;
   82: r2 = r7
   83: r2 -= 48
   84: goto -5
; 7: if (c >= 97 && c <= 102) return c - 87;
   85: if r7 >= 97 goto +8
   86: goto +5
; 6: if (c >= 48 && c <= 57) return c - 48;
   87: if r7 <= 57 goto -6
   88: goto -4
; 7: if (c >= 97 && c <= 102) return c - 87;
   89: r2 = r7
   90: r2 -= 87
   91: goto -12
; 8: if (c >= 65 && c <= 70) return c - 55;
   92: if r7 >= 65 goto +8
   93: goto +5
; 7: if (c >= 97 && c <= 102) return c - 87;
   94: if r7 <= 102 goto -6
   95: goto -4
; 8: if (c >= 65 && c <= 70) return c - 55;
   96: r2 = r7
   97: r2 -= 55
   98: goto -19
; 9: return -1;
   99: r2 = -1
  100: goto -21
; 8: if (c >= 65 && c <= 70) return c - 55;
  101: if r7 <= 70 goto -6
  102: goto -4
; 20: let v: u32 = 0;
  103: r6 = 0
; 21: for (let k: u32 = 0; k < 8; k++) {
  104: r7 = 0
  105: goto +51
  106: if r4 >= 8 goto +10
; 22: v = u32(v * 16 + (hexDigit(b.u8(off + k)) & 15));
  107: r8 = r3
  108: r8 *= 16
  109: r9 = 54
  110: w9 += w4
  111: r9 += r1
  112: r9 = *(u8 *)(r9 + 0)
; 6: if (c >= 48 && c <= 57) return c - 48;
  113: if r9 >= 48 goto +18
  114: goto +15
; 21: for (let k: u32 = 0; k < 8; k++) {
  115: w4 += 1
  116: goto -11
; 24: return v;
  117: r2 = r3
  118: goto -16
; 22: v = u32(v * 16 + (hexDigit(b.u8(off + k)) & 15));
  119: r0 = *(u64 *)(r10 - 16)
  120: r0 &= 15
  121: *(u64 *)(r10 - 24) = r0
  122: r5 = *(u64 *)(r10 - 24)
  123: r3 = r8
  124: w3 += w5
; 21: for (let k: u32 = 0; k < 8; k++) {
  125: goto -11
; 6: if (c >= 48 && c <= 57) return c - 48;
  126: r0 = r9
  127: r0 -= 48
  128: *(u64 *)(r10 - 16) = r0
  129: goto -11
; 7: if (c >= 97 && c <= 102) return c - 87;
  130: if r9 >= 97 goto +9
  131: goto +6
; 6: if (c >= 48 && c <= 57) return c - 48;
  132: if r9 <= 57 goto -7
  133: goto -4
; 7: if (c >= 97 && c <= 102) return c - 87;
  134: r0 = r9
  135: r0 -= 87
  136: *(u64 *)(r10 - 16) = r0
  137: goto -19
; 8: if (c >= 65 && c <= 70) return c - 55;
  138: if r9 >= 65 goto +10
  139: goto +6
; 7: if (c >= 97 && c <= 102) return c - 87;
  140: if r9 <= 102 goto -7
  141: goto -4
; 8: if (c >= 65 && c <= 70) return c - 55;
  142: r0 = r9
  143: r0 -= 55
  144: *(u64 *)(r10 - 16) = r0
  145: goto -27
; 9: return -1;
  146: r0 = -1
  147: *(u64 *)(r10 - 16) = r0
  148: goto -30
; 8: if (c >= 65 && c <= 70) return c - 55;
  149: if r9 <= 70 goto -8
  150: goto -5
; 34: return i32(hexValue(hdr, 54) ^ hexValue(hdr, 94));
  151: r4 = r2
  152: w4 ^= w3
  153: r4 <<= 32
  154: r4 s>>= 32
  155: r0 = r4
  156: exit
; 21: for (let k: u32 = 0; k < 8; k++) {
  157: if r7 >= 8 goto +10
; 22: v = u32(v * 16 + (hexDigit(b.u8(off + k)) & 15));
  158: r4 = r6
  159: r4 *= 16
  160: r8 = 94
  161: w8 += w7
  162: r8 += r1
  163: r8 = *(u8 *)(r8 + 0)
; 6: if (c >= 48 && c <= 57) return c - 48;
  164: if r8 >= 48 goto +15
  165: goto +12
; 21: for (let k: u32 = 0; k < 8; k++) {
  166: w7 += 1
  167: goto -11
; 24: return v;
  168: r3 = r6
  169: goto -19
; 22: v = u32(v * 16 + (hexDigit(b.u8(off + k)) & 15));
  170: r9 = r3
  171: r9 &= 15
  172: r6 = r4
  173: w6 += w9
; 21: for (let k: u32 = 0; k < 8; k++) {
  174: goto -9
; 6: if (c >= 48 && c <= 57) return c - 48;
  175: r3 = r8
  176: r3 -= 48
  177: goto -8
; 7: if (c >= 97 && c <= 102) return c - 87;
  178: if r8 >= 97 goto +8
  179: goto +5
; 6: if (c >= 48 && c <= 57) return c - 48;
  180: if r8 <= 57 goto -6
  181: goto -4
; 7: if (c >= 97 && c <= 102) return c - 87;
  182: r3 = r8
  183: r3 -= 87
  184: goto -15
; 8: if (c >= 65 && c <= 70) return c - 55;
  185: if r8 >= 65 goto +8
  186: goto +5
; 7: if (c >= 97 && c <= 102) return c - 87;
  187: if r8 <= 102 goto -6
  188: goto -4
; 8: if (c >= 65 && c <= 70) return c - 55;
  189: r3 = r8
  190: r3 -= 55
  191: goto -22
; 9: return -1;
  192: r3 = -1
  193: goto -24
; 8: if (c >= 65 && c <= 70) return c - 55;
  194: if r8 <= 70 goto -6
  195: goto -4
