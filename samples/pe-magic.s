; A first look at a PE image, in the LLVM/kernel pseudo-C syntax.
; Input: r1 = the image's first bytes, r2 = their length (the conformance calling convention).
; Returns e_lfanew (the PE header's offset) when the buffer starts a PE image, 0 otherwise.
        r0 = 0
        if r2 < 64 goto out             ; room for the DOS header
        r3 = *(u16 *)(r1 + 0)
        if r3 != 0x5a4d goto out        ; "MZ"
        r4 = *(u32 *)(r1 + 60)          ; e_lfanew
        r5 = r4
        r5 += 4
        if r5 > r2 goto out             ; the PE signature must lie inside the buffer
        r1 += r4
        r3 = *(u32 *)(r1 + 0)
        if r3 != 0x4550 goto out        ; "PE\0\0"
        r0 = r4
out:
        exit
