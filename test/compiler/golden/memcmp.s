memcmp:  ; section syscall, 25 insns, stack 8 bytes
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
; 10: const a = data.u8(i);
   12: r3 = r1
   13: r3 += r2
   14: r4 = *(u8 *)(r3 + 0)
; 11: const b = data.u8(i + 32);
   15: r3 = *(u8 *)(r3 + 32)
; 12: if (a !== b) return a < b ? -1 : 1;
   16: if r4 == r3 goto +5
   17: if r4 >= r3 goto +2
   18: r0 = -1
   19: exit
   20: r0 = 1
   21: exit
; 9: for (let i: u32 = 0; i < 32; i++) {
   22: w2 += 1
   23: if r2 < 32 goto -12
; 14: return 0;
   24: r0 = 0
   25: exit
