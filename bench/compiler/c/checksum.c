/* 16-bit sum of the 256 input bytes (test/compiler/programs/checksum.ts). */
#define INPUT_SIZE 256
#include "input.h"

SEC("syscall") int checksum(void *ctx)
{
	u8 *d = input_value();
	if (!d)
		return -1;
	u32 sum = 0;
	for (u32 i = 0; i < 256; i++)
		sum += d[i];
	return sum & 0xffff;
}
