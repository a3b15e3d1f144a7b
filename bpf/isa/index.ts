export * from './codec.ts';
export * from './errors.ts';
export * from './fields.ts';
export * from './insn.ts';
export * from './opcodes.ts';
export * from './validate.ts';
