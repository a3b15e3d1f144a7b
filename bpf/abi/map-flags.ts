/** Map update and creation flags of the uapi (include/uapi/linux/bpf.h). */

/** bpf_map_update_elem() flags */
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;
/** Update under the value's bpf_spin_lock. */
export const BPF_F_LOCK = 4;

/** map_flags at creation */
export const BPF_F_NO_PREALLOC = 1 << 0;
export const BPF_F_RDONLY_PROG = 1 << 7;
export const BPF_F_WRONLY_PROG = 1 << 8;
