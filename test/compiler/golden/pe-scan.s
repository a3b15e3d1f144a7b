peScan:  ; section syscall, 56 insns, stack 8 bytes
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
   16: r3 = r2
   17: if r3 > 508 goto +37
   18: r3 += r1
   19: r3 = *(u32 *)(r3 + 0)
   20: if r3 == 17744 goto +2
   21: r0 = -3
   22: exit
; 25: const sections = data.u16(pe + 6);
   23: r3 = r2
   24: r3 += 6
   25: if r3 > 510 goto +29
   26: r3 += r1
   27: r3 = *(u16 *)(r3 + 0)
; 26: const first = pe + 24 + data.u16(pe + 20);
   28: r4 = r2
   29: r4 += 24
   30: r2 += 20
   31: if r2 > 510 goto +23
   32: r2 += r1
   33: r2 = *(u16 *)(r2 + 0)
   34: r4 += r2
; 27: for (let i: u32 = 0; i < 16 && i < sections; i++) {
   35: r2 = 0
   36: if r2 >= r3 goto +16
; 28: const sh = SectionHeader.at(data, first + i * 40);
   37: r6 = r2
   38: w6 *= 40
   39: r6 += r4
   40: if r6 > 472 goto +14
   41: r6 += r1
; 29: if (sh.name.u32(0) === 0x6e696c2e && sh.name.u16(4) === 0x7875 && sh.name.u16(6) === 0) return i;
   42: r7 = *(u32 *)(r6 + 0)
   43: if r7 != 1852402734 goto +6
   44: r7 = *(u16 *)(r6 + 4)
   45: if r7 != 30837 goto +4
   46: r6 = *(u16 *)(r6 + 6)
   47: if r6 != 0 goto +2
   48: r0 = r2
   49: exit
; 27: for (let i: u32 = 0; i < 16 && i < sections; i++) {
   50: w2 += 1
   51: if r2 >= 16 goto +1
   52: if r2 < r3 goto -16
; 31: return -4;
   53: r0 = -4
   54: exit
; 24: if (data.u32(pe) !== 0x4550) return -3;
   55: r0 = -9
   56: exit
