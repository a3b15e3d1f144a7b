/**
 * Generated DSL programs (support/gen-program.ts): each compiles without a diagnostic, passes our
 * verifier (runtime/verifier), and returns the same value and leaves the same input bytes natively
 * (the DSL library in Node) and compiled (runtime/vm), on random inputs. GEN_PROGRAMS sets the count
 * (default 1,000 per run; seeds come from fast-check, so a failure prints a reproducible seed).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/**
 * The run is seeded so CI is deterministic; GEN_SEED=N replays another run (fast-check prints the seed of a
 * failing one) and GEN_SEED=random explores. Known open case: GEN_SEED=2141727709 (program seed 60901740)
 * is rejected by our verifier with "R6 invalid mem access 'scalar'" (see the closing note of session 1).
 */
const seedOption = process.env.GEN_SEED === 'random' ? {} : { seed: Number(process.env.GEN_SEED ?? 20261122) };
import { Bytes, type Program } from '../../compiler/dsl/index.ts';
import type { ArrayMap } from '../../compiler/dsl/maps.ts';
import { compileSource, formatDiagnostic, linkedInsns, linkedMaps, writeElf } from '../../compiler/index.ts';
import { syscall, verify } from '../../runtime/verifier/index.ts';
import { findTool, missingBpf } from '../support/env.ts';
import { GEN_INPUT_SIZE, genFile } from './support/gen-program.ts';
import { loadCompiled } from './support/harness.ts';
import { evalDslModule } from './support/native.ts';

const TOTAL = Number(process.env.GEN_PROGRAMS ?? 1000);
const PER_FILE = 50;
const INPUTS = 3;
/** A file path beside the DSL imports it names (the file itself is never written). */
const FILE = new URL('./programs/generated.ts', import.meta.url).pathname;

const inputArb = fc.uint8Array({ minLength: GEN_INPUT_SIZE, maxLength: GEN_INPUT_SIZE });

describe(`${TOTAL} generated programs: compile, verify, native = compiled`, () => {
  it('every program compiles, passes our verifier and agrees with native mode', () => {
    let programs = 0;
    let executions = 0;
    let faults = 0;
    fc.assert(
      fc.property(
        fc.array(fc.integer(), { minLength: PER_FILE, maxLength: PER_FILE }),
        fc.array(inputArb, { minLength: INPUTS, maxLength: INPUTS }),
        (seeds, inputs) => {
          const text = genFile(seeds, '../../../compiler/dsl/index.ts');
          const out = compileSource(FILE, text);
          expect(out.diagnostics.map((d) => formatDiagnostic(d)).join('\n'), text).toBe('');
          const mod = evalDslModule(text);
          const input = mod.input as ArrayMap;
          const maps = linkedMaps(out);
          for (const [k, prog] of out.programs.entries()) {
            const where = `program p${k} (seed ${seeds[k]})`;
            const t0 = performance.now();
            const v = verify(linkedInsns(out, prog), { policy: syscall, maps });
            if (performance.now() - t0 > 300)
              console.log(
                `slow verify p${k} seed ${seeds[k]}: ${v.stats.insnProcessed} insns, ${(performance.now() - t0).toFixed(0)} ms`,
              );
            expect(v.accepted, `${where}: ${v.error?.message}\n${v.summary}`).toBe(true);
            const compiled = loadCompiled(out, prog.name);
            const native = mod[prog.name] as Program;
            for (const bytes of inputs) {
              input.update(0, new Bytes(bytes.slice()));
              const want = native.run();
              const wantMem = (input.lookup(0) as Bytes).raw().slice();
              const got = compiled.run(bytes);
              expect(got.r0, where).toBe(BigInt(want));
              expect(got.memory, where).toEqual(wantMem);
              if (want === -1000 - k) faults++;
              executions++;
            }
            programs++;
          }
        },
      ),
      { numRuns: Math.ceil(TOTAL / PER_FILE), endOnFailure: true, ...seedOption },
    );
    expect(programs).toBeGreaterThanOrEqual(TOTAL);
    // the generator must reach both outcomes: a run that faults and a run that does not
    expect(faults).toBeGreaterThan(0);
    expect(faults).toBeLessThan(executions);
  });

  it('50 of them load into the kernel verifier (bpftool prog loadall)', (ctx) => {
    const why = missingBpf() ?? (findTool('bpftool') === undefined ? 'bpftool is not installed' : undefined);
    if (why) ctx.skip(why);
    const seeds = fc.sample(fc.integer(), PER_FILE);
    const out = compileSource(FILE, genFile(seeds, '../../../compiler/dsl/index.ts'));
    expect(out.diagnostics).toEqual([]);
    const tmp = mkdtempSync(join(tmpdir(), 'ukibpf-gen-'));
    const pins = `/sys/fs/bpf/ukibpf_gen_${process.pid}`;
    try {
      writeFileSync(join(tmp, 'gen.o'), writeElf(out));
      const r = spawnSync(findTool('bpftool') as string, ['prog', 'loadall', join(tmp, 'gen.o'), pins], {
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      });
      expect(r.status, `seeds ${seeds.join(',')}\n${r.stderr.split('\n').slice(-20).join('\n')}`).toBe(0);
    } finally {
      rmSync(pins, { recursive: true, force: true });
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
