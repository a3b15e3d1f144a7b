/** runtime/helpers — models of the helpers a kexec parser program calls, and the maps they work on. */
export * from './addon-map.ts';
export * from './addon-verify.ts';
export * from './array-map.ts';
export * from './carrier.ts';
export * from './decompress.ts';
export * from './errors.ts';
export * from './hash-map.ts';
export * from './kernel-log.ts';
export * from './kv-map.ts';
export * from './map-flags.ts';
export * from './map-table.ts';
export * from './registry.ts';
export * from './resources.ts';
export * from './ringbuf.ts';
export * from './supplement-initrd.ts';
export * from './trace-printk.ts';
export * from './result-record.ts';
