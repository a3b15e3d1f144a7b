/**
 * Verifier speed on one compiled object (e.g. the UKI parser): verifies its first program RUNS times
 * in this process and prints, per run, wall and CPU milliseconds and the statistics (which must not
 * change between versions). The first run includes V8's warm-up, as a fresh `kexec-bpf` process
 * pays it; the later ones show the optimised code.
 *
 *   bin/ukibpf compile parsers/uki.ts -o uki.o
 *   node --import tsx bench/verifier/object.ts uki.o [--runs 3] [--json]
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { readObject } from '../../bpf/elf/index.ts';
import { linkedVerifyOptions, linkProgram, verify } from '../../runtime/verifier/index.ts';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { runs: { type: 'string', default: '3' }, json: { type: 'boolean', default: false } },
});
const file = positionals[0];
if (file === undefined) throw new Error('usage: bench/verifier/object.ts OBJECT.o [--runs N] [--json]');
const obj = readObject(readFileSync(file), { file: basename(file) });
const fn = obj.programs[0];
if (fn === undefined) throw new Error(`${file}: no program`);
const linked = linkProgram(obj, fn);
const policy = linked.policy;
if (policy === undefined) throw new Error(`${file}: no program type for the program's section`);

const rows = [];
for (let i = 0; i < Math.max(1, Number(args.runs)); i++) {
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  const r = verify(linked.slots, linkedVerifyOptions(linked, policy));
  const cpu = process.cpuUsage(cpu0);
  rows.push({
    run: i + 1,
    wallMs: Math.round(performance.now() - wall0),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    accepted: r.accepted,
    stats: r.stats,
  });
}
if (args.json) console.log(JSON.stringify(rows));
else
  for (const r of rows)
    console.log(`run ${r.run}: ${r.wallMs} ms (cpu ${r.cpuMs} ms) ${r.accepted} ${JSON.stringify(r.stats)}`);
