/* Parses a cpio newc header at offset 0: filesize xor namesize, or a negative error
 * (test/compiler/programs/cpio-header.ts). */
#define INPUT_SIZE 256
#include "input.h"

static __always_inline int hex_digit(u8 c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static __always_inline int hex_ok(const u8 *b, u32 off)
{
	for (u32 k = 0; k < 8; k++)
		if (hex_digit(b[off + k]) < 0)
			return 0;
	return 1;
}

static __always_inline u32 hex_value(const u8 *b, u32 off)
{
	u32 v = 0;
	for (u32 k = 0; k < 8; k++)
		v = v * 16 + (hex_digit(b[off + k]) & 15);
	return v;
}

SEC("syscall") int cpio_header(void *ctx)
{
	u8 *h = input_value();
	if (!h)
		return -1;
	if (*(u32 *)h != 0x37303730 || *(u16 *)(h + 4) != 0x3130)
		return -2;
	if (!hex_ok(h, 54) || !hex_ok(h, 94))
		return -3;
	return hex_value(h, 54) ^ hex_value(h, 94);
}
