/* FNV-1a (32-bit) of the first 64 input bytes, top bit cleared (test/compiler/programs/fnv1a.ts). */
#define INPUT_SIZE 256
#include "input.h"

SEC("syscall") int fnv1a(void *ctx)
{
	u8 *d = input_value();
	if (!d)
		return -1;
	u32 h = 0x811c9dc5;
	for (u32 i = 0; i < 64; i++)
		h = (h ^ d[i]) * 0x01000193;
	return h & 0x7fffffff;
}
