/* Index of the PE section named ".linux", or a negative error; -9 for a read outside the input
 * (test/compiler/programs/pe-scan.ts). */
#define INPUT_SIZE 512
#include "input.h"

#define FAULT -9

/* What C authors write so that clang keeps each bounds check on the register it then adds to the
 * pointer (libbpf's barrier_var): without it clang merges the checks into ranges the verifier cannot
 * follow, and the kernel refuses the program. */
#define barrier_var(v) asm volatile("" : "+r"(v))

SEC("syscall") int pe_scan(void *ctx)
{
	u8 *d = input_value();
	if (!d)
		return -1;
	if (*(u16 *)d != 0x5a4d)
		return -2;
	u32 pe = *(u32 *)(d + 0x3c);
	if (pe > INPUT_SIZE - 4)
		return FAULT;
	if (*(u32 *)(d + pe) != 0x4550)
		return -3;
	u32 at = pe + 6;
	barrier_var(at);
	if (at > INPUT_SIZE - 2)
		return FAULT;
	u32 sections = *(u16 *)(d + at);
	at = pe + 20;
	barrier_var(at);
	if (at > INPUT_SIZE - 2)
		return FAULT;
	u32 first = pe + 24 + *(u16 *)(d + at);
	for (u32 i = 0; i < 16 && i < sections; i++) {
		u32 off = first + i * 40;
		barrier_var(off);
		if (off > INPUT_SIZE - 40)
			return FAULT;
		u8 *sh = d + off;
		if (*(u32 *)sh == 0x6e696c2e && *(u16 *)(sh + 4) == 0x7875 && *(u16 *)(sh + 6) == 0)
			return i;
	}
	return -4;
}
