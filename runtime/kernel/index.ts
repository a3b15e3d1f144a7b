/** runtime/kernel — the simulated kernel: kexec_file_load with the RFC's `.bpf` flow, bpf(2), the syscall channel. */
export * from './arch.ts';
export * from './bpf-objects.ts';
export * from './bpf-syscall.ts';
export * from './channel.ts';
export * from './decompose.ts';
export * from './errno.ts';
export * from './eventfd.ts';
export * from './files.ts';
export * from './kernel.ts';
export * from './keyring.ts';
export * from './kimage.ts';
export * from './klog.ts';
export * from './parser-loader.ts';
export * from './procfs.ts';
export * from './prog-digest.ts';
export * from './sig-policy.ts';
export * from './uapi.ts';
