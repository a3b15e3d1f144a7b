fnv1a:  ; section syscall, 22 insns, stack 8 bytes
; 7: const data = input.lookup(0);
    0: r2 = r10
    1: r2 += -8
    2: r5 = 0
    3: *(u32 *)(r2 + 0) = r5
    4: r1 = 0 ll  ; input
    6: call 1
    7: r1 = r0
; 8: if (data === null) return -1;
    8: if r1 != 0 goto +2
    9: r0 = -1
   10: exit
; 9: let h: u32 = 0x811c9dc5;
   11: w2 = -2128831035
; 10: for (let i: u32 = 0; i < 64; i++) {
   12: r3 = 0
; 11: h = u32(Math.imul(h ^ data.u8(i), 0x01000193));
   13: r4 = r1
   14: r4 += r3
   15: r4 = *(u8 *)(r4 + 0)
   16: w2 ^= w4
   17: w2 *= 16777619
; 10: for (let i: u32 = 0; i < 64; i++) {
   18: w3 += 1
   19: if r3 < 64 goto -7
; 13: return h & 0x7fffffff;
   20: w2 &= 2147483647
   21: r0 = r2
   22: exit
