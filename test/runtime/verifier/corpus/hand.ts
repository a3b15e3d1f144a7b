/** The hand-written corpus: core rules, helper calls and precision tracking. */
import { CORE_CASES } from './hand-core.ts';
import { HELPER_CASES } from './hand-helpers.ts';
import { PRECISION_CASES } from './hand-precision.ts';
import type { HandCase } from './hand-types.ts';

export type { HandCase, ProgKind } from './hand-types.ts';
export { MAPS } from './hand-types.ts';
export const HAND_CASES: readonly HandCase[] = [...CORE_CASES, ...HELPER_CASES, ...PRECISION_CASES];
