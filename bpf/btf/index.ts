/** BTF: the type model, its encoder/decoder, .BTF.ext records, a builder and a bpftool-style dump. */
export * from './builder.ts';
export * from './decode.ts';
export * from './dump.ts';
export * from './encode.ts';
export * from './errors.ts';
export * from './ext.ts';
export * from './kinds.ts';
export * from './strings.ts';
export * from './types.ts';
export * from './walk.ts';
