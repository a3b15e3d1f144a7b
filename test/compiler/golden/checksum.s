checksum:  ; section syscall, 21 insns, stack 8 bytes
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
; 9: let sum: u32 = 0;
   11: r2 = 0
; 10: for (let i: u32 = 0; i < 256; i++) {
   12: r3 = 0
; 11: sum = u32(sum + data.u8(i));
   13: r4 = r1
   14: r4 += r3
   15: r4 = *(u8 *)(r4 + 0)
   16: w2 += w4
; 10: for (let i: u32 = 0; i < 256; i++) {
   17: w3 += 1
   18: if r3 < 256 goto -6
; 13: return sum & 0xffff;
   19: w2 &= 65535
   20: r0 = r2
   21: exit
