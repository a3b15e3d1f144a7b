/* EFI zboot header check: 1 gzip, 2 zstd, 3 lz4, 4 xz; negative when invalid
 * (test/compiler/programs/zboot-header.ts). */
#define INPUT_SIZE 256
#include "input.h"

SEC("syscall") int zboot_header(void *ctx)
{
	u8 *d = input_value();
	if (!d)
		return -1;
	if (*(u16 *)d != 0x5a4d)
		return -2;
	if (*(u32 *)(d + 4) != 0x676d697a)
		return -3;
	u64 offset = *(u32 *)(d + 8);
	u32 size = *(u32 *)(d + 12);
	if (offset + size > 0x10000000 || size == 0)
		return -4;
	u32 c = *(u32 *)(d + 24);
	if (c == 0x70697a67)
		return 1;
	if (c == 0x6474737a)
		return 2;
	if (c == 0x00347a6c)
		return 3;
	if (c == 0x00007a78)
		return 4;
	return -5;
}
