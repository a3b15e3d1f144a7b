/** Public entry points of the verifier. */

export {
  LinkError,
  type LinkedProgram,
  linkedVerifyOptions,
  linkProgram,
  objectMaps,
  policyForSection,
} from './load/object.ts';
export { kexecParserHook, socketFilter, syscall, tracingFentry, xdp } from './policy/prog-types.ts';
export type { ProgramPolicy } from './policy/types.ts';
export type { VerifierErrorInfo, VerifierResult, VerifierStats } from './result.ts';
export { summarizeLog } from './result.ts';
export type { MapDesc } from './state/reg.ts';
export { type VerifyOptions, verify } from './verify.ts';
