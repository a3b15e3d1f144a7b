/** Crafted UKIs and addons for the UKI tests, built field by field with pe-build.ts (not with formats/uki). */
import { type BuildSection, buildPe } from './pe-build.ts';

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

export interface Sec {
  readonly name: string;
  readonly data: Uint8Array | string;
  readonly virtualSize?: number;
}

const toBuild = (s: Sec): BuildSection => ({
  name: s.name,
  data: typeof s.data === 'string' ? enc(s.data) : s.data,
  ...(s.virtualSize === undefined ? {} : { virtualSize: s.virtualSize }),
});

/** A stub-like `.text`, then the base sections, then each profile as `.profile` + its sections. */
export const craftUki = (
  base: readonly Sec[],
  profiles: readonly { profile: string; sections: readonly Sec[] }[] = [],
) =>
  buildPe({
    sections: [
      { name: '.text', data: new Uint8Array(16).fill(0xc3), characteristics: 0x60000020 },
      ...base.map(toBuild),
      ...profiles.flatMap((p) => [toBuild({ name: '.profile', data: p.profile }), ...p.sections.map(toBuild)]),
    ],
  }).bytes;

/** A PE with exactly these sections (an addon, or anything else). */
export const craftPe = (sections: readonly Sec[]) => buildPe({ sections: sections.map(toBuild) }).bytes;
