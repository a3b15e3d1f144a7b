/**
 * Equivalence of parsers/uki.ts with systemd-stub (issue 7): for every case of the generated corpus
 * (test/support/uki-corpus.ts), the kernel, initrd and command line the compiled parser produces equal,
 * byte for byte, what formats/uki's stub reference computes; where the stub refuses to boot, the parser
 * reports a negative status and hands over nothing.
 *
 * The run is seeded (UKI_SEED=N replays a run, UKI_SEED=random explores; UKI_CASE=i[,j] runs single
 * cases). A mismatch names the case, how to replay it, and what differs (which initrd piece, which text).
 * After the run a table gives pass/fail counts per corpus feature.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CORPUS_SIZE,
  compare,
  corpus,
  corpusSeed,
  describeCase,
  FEATURES,
  type Feature,
  featureCounts,
  featureTable,
  type Mismatch,
  type Produced,
  type UkiCase,
} from '../support/uki-corpus.ts';
import { runUkiCompiled, ukiCompiled } from './uki-support.ts';

/** Every feature must appear at least this often in a full run. */
const MIN_PER_FEATURE = 3;

const seed = corpusSeed();
const cases = corpus(seed);
const full = process.env.UKI_CASE === undefined || process.env.UKI_CASE === '';

describe(`the UKI corpus (seed ${seed})`, () => {
  it(`has at least 200 cases and every feature at least ${MIN_PER_FEATURE} times`, (ctx) => {
    if (!full) ctx.skip('UKI_CASE picks single cases: the distribution is that of a full run');
    const counts = featureCounts(cases);
    console.log(`UKI corpus, seed ${seed}, ${cases.length} cases; cases per feature:\n${featureTable(counts)}`);
    expect(cases.length).toBeGreaterThanOrEqual(200);
    expect(cases.length).toBe(CORPUS_SIZE);
    const rare = [...counts].filter(([, n]) => n < MIN_PER_FEATURE);
    expect(rare, 'features the corpus exercises too rarely').toEqual([]);
    // both outcomes are represented
    expect(cases.filter((c) => c.expected.ok).length).toBeGreaterThan(cases.length / 2);
    expect(cases.filter((c) => !c.expected.ok).length).toBeGreaterThanOrEqual(MIN_PER_FEATURE);
  });

  it('rebuilds a case identically from its seed and index', () => {
    for (const c of cases.slice(0, 3)) {
      const again = corpus(seed, 0, String(c.index))[0]!;
      expect(again.image).toEqual(c.image);
      expect(again.files).toEqual(c.files);
      expect(again.cmdline).toBe(c.cmdline);
    }
  });

  it('keeps images small (KBs)', () => {
    const biggest = Math.max(...cases.map((c) => c.image.length + c.files.reduce((n, f) => n + f.data.length, 0)));
    expect(biggest).toBeLessThan(160 * 1024);
  });
});

// ---- the parser against the reference ----

interface Outcome {
  readonly c: UkiCase;
  readonly mismatches: readonly { kind: Mismatch; text: string }[];
}
const outcomes: Outcome[] = [];
/**
 * A case through the compiled parsers/uki.ts: H2's driver (uki-support.ts runUkiCompiled) runs the
 * program in runtime/vm with the kernel's helper models (carrier, supplement_initrd with Authenticode
 * checks against the test key, the addon-name map). The loader lists the files in the stub's order
 * (strcmp by name), as docs/ABI.md §10 asks of loaders; the parser applies the stub's directory filter
 * itself. The whole kexec_file_load path (signature, handshake, verifier, digest, arch probe) is held to
 * the reference for a subset of the corpus in uki-fuzz.test.ts (its unmutated control cases): one kernel
 * load costs the verifier run and the digest of the parser's large maps, too much for every case.
 */
interface UkiDriver {
  run(c: UkiCase): Promise<Produced>;
}
let driver: UkiDriver | undefined;
let driverProblem: string | undefined;

const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

const ukiDriver = async (): Promise<UkiDriver> => {
  ukiCompiled(); // compile once, before the first case
  return {
    run: async (c) => {
      const r = await runUkiCompiled({
        uki: c.image,
        ...(c.cmdline === undefined ? {} : { cmdline: c.cmdline }),
        ...(c.initrd ? { initrd: c.initrd } : {}),
        addons: [...c.files].sort(byName),
      });
      return { errno: r.errno, kernel: r.kernel, initrd: r.initrd, cmdline: r.cmdline, log: r.log.split('\n') };
    },
  };
};

beforeAll(async () => {
  try {
    driver = await ukiDriver();
  } catch (e) {
    driverProblem = e instanceof Error ? e.message : String(e);
  }
});

afterAll(() => {
  if (outcomes.length === 0) return;
  const byFeature = new Map<Feature, { pass: number; fail: number }>(FEATURES.map((f) => [f, { pass: 0, fail: 0 }]));
  const byKind = new Map<string, number>();
  for (const o of outcomes) {
    for (const f of o.c.features) {
      const row = byFeature.get(f)!;
      if (o.mismatches.length) row.fail++;
      else row.pass++;
    }
    for (const k of new Set(o.mismatches.map((m) => m.kind))) byKind.set(k, (byKind.get(k) ?? 0) + 1);
  }
  const pass = outcomes.filter((o) => o.mismatches.length === 0).length;
  const cells = new Map([...byFeature].map(([f, r]) => [f, `${r.fail}/${r.pass + r.fail}`] as const));
  console.log(
    `UKI equivalence, seed ${seed}: ${pass}/${outcomes.length} cases equal the reference.\n` +
      `mismatching cases by what differs: ${[...byKind].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}\n` +
      `failing/all cases per feature:\n${featureTable(cells)}`,
  );
});

describe(`parsers/uki.ts against the systemd-stub reference (seed ${seed})`, () => {
  for (const c of cases) {
    const title = `case ${c.index} (${c.spec.theme}, ${c.spec.builder}${c.expected.ok ? '' : `, stub fails: ${c.expected.code}`})`;
    it(title, async () => {
      if (driver === undefined) throw new Error(`no UKI driver: ${driverProblem}`);
      let got: Produced;
      try {
        got = await driver.run(c);
      } catch (e) {
        outcomes.push({ c, mismatches: [{ kind: 'errno', text: `host exception: ${e}` }] });
        throw e;
      }
      const mismatches = compare(c.expected, got, false);
      outcomes.push({ c, mismatches });
      const why = `${describeCase(c)}\n  ${mismatches.map((m) => m.text).join('\n  ')}`;
      expect(mismatches, why).toEqual([]);
    });
  }
});
