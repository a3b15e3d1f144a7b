/* memcmp(data, data + 32, 32): -1, 0 or 1 (test/compiler/programs/memcmp.ts). */
#define INPUT_SIZE 256
#include "input.h"

SEC("syscall") int memcmp_prog(void *ctx)
{
	u8 *d = input_value();
	if (!d)
		return -2;
	for (u32 i = 0; i < 32; i++) {
		u8 a = d[i], b = d[i + 32];
		if (a != b)
			return a < b ? -1 : 1;
	}
	return 0;
}
