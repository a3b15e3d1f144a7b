/** The hand-written corpus: core rules and helper calls. */
import { CORE_CASES } from './hand-core.ts';
import { HELPER_CASES } from './hand-helpers.ts';
import type { HandCase } from './hand-types.ts';

export type { HandCase, ProgKind } from './hand-types.ts';
export { MAPS } from './hand-types.ts';
export const HAND_CASES: readonly HandCase[] = [...CORE_CASES, ...HELPER_CASES];
