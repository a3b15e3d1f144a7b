memcmp:  ; section syscall, 30 insns, stack 8 bytes
; 7: const data = input.lookup(0);
    0: r2 = r10
    1: r2 += -8
    2: r5 = 0
    3: *(u32 *)(r2 + 0) = r5
    4: r1 = 0 ll  ; input
    6: call 1
    7: r1 = r0
; 8: if (data === null) return -2;
    8: if r1 != 0 goto +2
    9: r0 = -2
   10: exit
; 9: for (let i: u32 = 0; i < 32; i++) {
   11: r2 = 0
   12: if r2 >= 32 goto +10
; 10: const a = data.u8(i);
   13: r3 = r1
   14: r3 += r2
   15: r3 = *(u8 *)(r3 + 0)
; 11: const b = data.u8(i + 32);
   16: r4 = r2
   17: w4 += 32
   18: r4 += r1
   19: r4 = *(u8 *)(r4 + 0)
; 12: if (a !== b) return a < b ? -1 : 1;
   20: if r3 != r4 goto +4
; 9: for (let i: u32 = 0; i < 32; i++) {
   21: w2 += 1
   22: goto -11
; 14: return 0;
   23: r0 = 0
   24: exit
; 12: if (a !== b) return a < b ? -1 : 1;
   25: if r3 >= r4 goto +2
   26: r1 = -1
   27: goto +1
   28: r1 = 1
   29: r0 = r1
   30: exit
