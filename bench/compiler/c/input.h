/* The input map every benchmark program parses: one array element of INPUT_SIZE bytes, as the DSL
 * programs' `input = arrayMap({ valueSize: INPUT_SIZE, maxEntries: 1 })`. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u8[INPUT_SIZE]);
} input SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

static __always_inline u8 *input_value(void)
{
	u32 key = 0;
	return bpf_map_lookup_elem(&input, &key);
}
