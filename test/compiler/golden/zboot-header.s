zbootHeader:  ; section syscall, 40 insns, stack 8 bytes
; 7: const d = input.lookup(0);
    0: r2 = r10
    1: r2 += -8
    2: r5 = 0
    3: *(u32 *)(r2 + 0) = r5
    4: r1 = 0 ll  ; input
    6: call 1
    7: r1 = r0
; 8: if (d === null) return -1;
    8: if r1 != 0 goto +2
    9: r0 = -1
   10: exit
; 9: if (d.u16(0) !== 0x5a4d) return -2;
   11: r2 = *(u16 *)(r1 + 0)
   12: if r2 == 23117 goto +2
   13: r0 = -2
   14: exit
; 10: if (d.u32(4) !== 0x676d697a) return -3;
   15: r2 = *(u32 *)(r1 + 4)
   16: if r2 == 1735223674 goto +2
   17: r0 = -3
   18: exit
; 11: const offset = d.u32(8);
   19: r2 = *(u32 *)(r1 + 8)
; 12: const size = d.u32(12);
   20: r3 = *(u32 *)(r1 + 12)
; 13: if (offset + size > 0x10000000 || size === 0) return -4;
   21: r2 += r3
   22: if r2 > 268435456 goto +1
   23: if r3 != 0 goto +2
   24: r0 = -4
   25: exit
; 14: const c = d.u32(24);
   26: r1 = *(u32 *)(r1 + 24)
; 15: if (c === 0x70697a67) return 1;
   27: if r1 != 1885960807 goto +2
   28: r0 = 1
   29: exit
; 16: if (c === 0x6474737a) return 2;
   30: if r1 != 1685353338 goto +2
   31: r0 = 2
   32: exit
; 17: if (c === 0x00347a6c) return 3;
   33: if r1 != 3439212 goto +2
   34: r0 = 3
   35: exit
; 18: if (c === 0x00007a78) return 4;
   36: if r1 != 31352 goto +2
   37: r0 = 4
   38: exit
; 19: return -5;
   39: r0 = -5
   40: exit
