peScan:  ; section syscall, 65 insns, stack 8 bytes
; 20: const data = input.lookup(0);
    0: r2 = r10
    1: r2 += -8
    2: r5 = 0
    3: *(u32 *)(r2 + 0) = r5
    4: r1 = 0 ll  ; input
    6: call 1
    7: r1 = r0
; 21: if (data === null) return -1;
    8: if r1 != 0 goto +2
    9: r0 = -1
   10: exit
; 22: if (data.u16(0) !== 0x5a4d) return -2;
   11: r2 = *(u16 *)(r1 + 0)
   12: if r2 == 23117 goto +2
   13: r0 = -2
   14: exit
; 23: const pe = data.u32(0x3c);
   15: r2 = *(u32 *)(r1 + 60)
; 24: if (data.u32(pe) !== 0x4550) return -3;
   16: if r2 > 508 goto +12
   17: goto +6
   18: r0 = -3
   19: exit
; 25: const sections = data.u16(pe + 6);
   20: r3 = r2
   21: r3 += 6
   22: if r3 > 510 goto +6
   23: goto +7
; 24: if (data.u32(pe) !== 0x4550) return -3;
   24: r4 = r1
   25: r4 += r2
   26: r4 = *(u32 *)(r4 + 0)
   27: if r4 != 17744 goto -10
   28: goto -9
   29: r0 = -9
   30: exit
; 25: const sections = data.u16(pe + 6);
   31: r3 += r1
   32: r3 = *(u16 *)(r3 + 0)
; 26: const first = pe + 24 + data.u16(pe + 20);
   33: r4 = r2
   34: r4 += 24
   35: r2 += 20
   36: if r2 > 510 goto -8
   37: r2 += r1
   38: r2 = *(u16 *)(r2 + 0)
   39: r4 += r2
; 27: for (let i: u32 = 0; i < 16 && i < sections; i++) {
   40: r2 = 0
   41: if r2 < 16 goto +10
   42: goto +7
; 28: const sh = SectionHeader.at(data, first + i * 40);
   43: r6 = r2
   44: w6 *= 40
   45: r6 += r4
   46: if r6 > 472 goto -18
   47: goto +6
; 27: for (let i: u32 = 0; i < 16 && i < sections; i++) {
   48: w2 += 1
   49: goto -9
; 31: return -4;
   50: r0 = -4
   51: exit
; 27: for (let i: u32 = 0; i < 16 && i < sections; i++) {
   52: if r2 < r3 goto -10
   53: goto -4
; 28: const sh = SectionHeader.at(data, first + i * 40);
   54: r6 += r1
; 29: if (sh.name.u32(0) === 0x6e696c2e && sh.name.u16(4) === 0x7875 && sh.name.u16(6) === 0) return i;
   55: r7 = *(u32 *)(r6 + 0)
   56: if r7 == 1852402734 goto +6
   57: goto -10
   58: r0 = r2
   59: exit
   60: r7 = *(u16 *)(r6 + 6)
   61: if r7 == 0 goto -4
   62: goto -15
   63: r7 = *(u16 *)(r6 + 4)
   64: if r7 == 30837 goto -5
   65: goto -18
