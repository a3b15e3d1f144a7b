checksum:  ; section syscall, 22 insns, stack 8 bytes
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
   13: if r3 >= 256 goto +6
; 11: sum = u32(sum + data.u8(i));
   14: r4 = r1
   15: r4 += r3
   16: r4 = *(u8 *)(r4 + 0)
   17: w2 += w4
; 10: for (let i: u32 = 0; i < 256; i++) {
   18: w3 += 1
   19: goto -7
; 13: return sum & 0xffff;
   20: w2 &= 65535
   21: r0 = r2
   22: exit
