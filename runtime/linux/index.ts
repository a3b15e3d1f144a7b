export * from './bpf.ts';
export * from './syscall.ts';
export * from './uapi.ts';
export * from './wrap.ts';
