/**
 * bpf/abi — the one place that defines the ABI facts: helper ids and prototypes, kfuncs, hooks,
 * map/program/attach types, libbpf section names, boot resources, ring-buffer conventions, errno.
 * docs/ABI.md documents them for users.
 */
export * from './arg-types.ts';
export * from './command-stream.ts';
export * from './enum-table.ts';
export * from './errno.ts';
export * from './errors.ts';
export * from './helper-ids.ts';
export * from './helper-proto.ts';
export * from './helpers.ts';
export * from './hooks.ts';
export * from './kfuncs.ts';
export * from './linux-helpers.ts';
export * from './map-flags.ts';
export * from './map-types.ts';
export * from './prog-types.ts';
export * from './proposed-helpers.ts';
export * from './proto-check.ts';
export * from './resources.ts';
export * from './ringbuf.ts';
export * from './sections.ts';
export * from './struct-layout.ts';
