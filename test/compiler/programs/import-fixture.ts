/** Declarations another DSL file imports in control-flow.test.ts: two importable, two not. */
import { arrayMap, table, type u32 } from '../../../compiler/dsl/index.ts';

export const MZ = 0x5a4d;
export const NAMES = table('u16', [MZ, MZ + 1]);
export const helper = (x: u32): u32 => x + 1;
export const state = arrayMap({ valueSize: 8, maxEntries: 1 });
