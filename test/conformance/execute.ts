/**
 * The execution stage of the conformance run: every runnable test of `tests/` runs (1) through the
 * interpreter in this process and (2) through `bin/bpf-conformance-plugin`, spawned with the exact
 * argv/stdin the bpf_conformance runner uses, and both answers are judged as that runner judges them:
 * exit 0 → stdout parsed as hex and compared with `-- result`; non-zero exit → the output text
 * (stdout, else stderr, cut at `\r`, trailing whitespace trimmed) compared with `-- error`.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import type { Insn } from '../../bpf/isa/index.ts';
import { socketFilter, verify } from '../../runtime/verifier/index.ts';
import { VmError } from '../../runtime/vm/errors.ts';
import { Vm } from '../../runtime/vm/interpreter.ts';
import { conformanceHelpers } from '../../runtime/vm/plugin.ts';
import { buildProgram, type CorpusCase, loadCorpus } from './corpus.ts';
import { type DataFile, DataFileError } from './data-file.ts';
import { negativeExpectation } from './negative-expectations.ts';
import { resultsFor, type Stage } from './stage.ts';

export const PLUGIN = join(resolve(import.meta.dirname, '../..'), 'bin/bpf-conformance-plugin');

export const EXEC_CHECK = {
  interpreter: 'interpreter result',
  plugin: 'plugin result',
  mismatch: 'wrong expectation detected',
  rejected: 'rejected when loaded',
} as const;

/** Base16 as the runner writes it: two lower-case hex digits and two spaces per byte. */
export const toRunnerHex = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => `${b.toString(16).padStart(2, '0')}  `).join('');

/** What a runtime answered: a value, or an error text. */
export type Answer = { readonly r0: bigint } | { readonly error: string };

/** Compares an answer with the file's expectation; undefined when it matches, else what differs. */
export const judge = (data: DataFile, answer: Answer): string | undefined => {
  const hex = (v: bigint) => `0x${v.toString(16)}`;
  if ('r0' in answer) {
    if (data.result === undefined) return `returned ${hex(answer.r0)}, expected error '${data.error ?? ''}'`;
    return answer.r0 === data.result ? undefined : `returned ${hex(answer.r0)}, expected ${hex(data.result)}`;
  }
  if (data.error === undefined || data.error === '') return `failed: ${answer.error}`;
  return answer.error === data.error ? undefined : `failed with '${answer.error}', expected '${data.error}'`;
};

const inProcess = (data: DataFile, insns: readonly Insn[]): Answer => {
  try {
    const vm = new Vm(insns, { helpers: conformanceHelpers() });
    // A private copy, as the runner gives each plugin process its own.
    return { r0: vm.run({ mem: data.mem?.slice() }).r0 };
  } catch (e) {
    if (e instanceof VmError) return { error: e.message };
    throw e;
  }
};

/** One plugin process: the runner's argv and stdin for a test. */
interface PluginJob {
  readonly args: readonly string[];
  readonly input: string;
}
interface PluginExit {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const jobFor = (bytes: Uint8Array, mem: Uint8Array | undefined): PluginJob => ({
  args: mem === undefined ? [] : [toRunnerHex(mem)],
  input: `${toRunnerHex(bytes)}\n`,
});

/**
 * Runs plugin processes, several at a time (node start-up dominates each run), from a synchronous
 * caller: a small driver process spawns them and reports every exit as JSON.
 */
const runBatch = (jobs: readonly PluginJob[]): PluginExit[] => {
  const script = `
    const { spawn } = require('node:child_process');
    const jobs = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
    const out = new Array(jobs.length);
    let next = 0;
    const one = () => {
      const i = next++;
      if (i >= jobs.length) return Promise.resolve();
      return new Promise((done) => {
        const p = spawn(process.argv[1], jobs[i].args);
        let stdout = '', stderr = '';
        p.stdout.on('data', (d) => (stdout += d));
        p.stderr.on('data', (d) => (stderr += d));
        p.on('error', (e) => { out[i] = { status: null, stdout, stderr: String(e) }; done(); });
        p.on('close', (status) => { out[i] = { status, stdout, stderr }; done(); });
        p.stdin.end(jobs[i].input);
      }).then(one);
    };
    const width = Math.max(1, require('node:os').availableParallelism());
    Promise.all(Array.from({ length: width }, one)).then(() => process.stdout.write(JSON.stringify(out)));
  `;
  const p = spawnSync(process.execPath, ['-e', script, PLUGIN], {
    input: JSON.stringify(jobs),
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    timeout: 600_000,
  });
  if (p.status !== 0) throw new Error(`plugin batch failed: ${p.stderr || p.error?.message}`);
  return JSON.parse(p.stdout) as PluginExit[];
};

/** An exit judged as the runner reads it. */
export const answerOf = (p: PluginExit): Answer => {
  const out = p.stdout.replace(/\n$/, '');
  if (p.status === 0) {
    if (!/^(0x)?[0-9a-fA-F]+$/.test(out)) return { error: `unparsable output '${out}'` };
    return { r0: BigInt(out.startsWith('0x') ? out : `0x${out}`) };
  }
  const text = out === '' ? p.stderr.replace(/\n$/, '') : out;
  return { error: (text.split('\r')[0] ?? '').replace(/\s+$/, '') };
};

/** Runs the plugin once, as the bpf_conformance runner does. */
export const viaPlugin = (bytes: Uint8Array, mem: Uint8Array | undefined): Answer =>
  answerOf(runBatch([jobFor(bytes, mem)])[0] as PluginExit);

/**
 * Plugin answers for every runnable test of a corpus folder, computed in one batch the first time a
 * file of that folder is checked.
 */
const batches = new Map<string, Map<string, Answer>>();
const pluginAnswer = (c: CorpusCase, bytes: Uint8Array, mem: Uint8Array | undefined): Answer => {
  const dir = dirname(dirname(c.path));
  let answers = batches.get(dir);
  if (answers === undefined) {
    const cases: [string, PluginJob][] = [];
    for (const other of loadCorpus(dir).filter((o) => o.group === 'tests')) {
      if (other.data instanceof DataFileError || other.data.skip !== undefined) continue;
      const b = buildProgram(other.data, other.name);
      if (b.kind === 'program') cases.push([other.path, jobFor(b.bytes, other.data.mem)]);
    }
    const exits = runBatch(cases.map(([, job]) => job));
    answers = new Map(cases.map(([path], i) => [path, answerOf(exits[i] as PluginExit)]));
    batches.set(dir, answers);
  }
  return answers.get(c.path) ?? viaPlugin(bytes, mem);
};

const checkTest = (c: CorpusCase) => {
  const r = resultsFor(c);
  const data = c.data;
  if (data instanceof DataFileError || data.skip !== undefined) return r.out;
  const build = buildProgram(data, c.name);
  if (build.kind !== 'program') {
    for (const check of [EXEC_CHECK.interpreter, EXEC_CHECK.plugin]) r.fail(check, `no program to run (${build.kind})`);
    return r.out;
  }
  const local = judge(data, inProcess(data, build.insns));
  r.expect(EXEC_CHECK.interpreter, local === undefined, local ?? '');
  const plugin = judge(data, pluginAnswer(c, build.bytes, data.mem));
  r.expect(EXEC_CHECK.plugin, plugin === undefined, plugin ?? '');
  return r.out;
};

/** Negative files whose failure shows only when run (negative-expectations.ts says which). */
const checkNegative = (c: CorpusCase) => {
  const r = resultsFor(c);
  const data = c.data;
  if (data instanceof DataFileError || negativeExpectation(c.name)?.stage !== 'execute') return r.out;
  const build = buildProgram(data, c.name);
  if (build.kind !== 'program') return r.out;
  if (data.error !== undefined) {
    // e.g. error.data reads R0 before writing it: rejecting that is the verifier's job. The corpus's
    // text ("Invalid") is its reference plugin's; ours is the kernel's message, shown in the report.
    const v = verify(build.insns, { policy: socketFilter });
    if (v.error === undefined) r.fail(EXEC_CHECK.rejected, 'the verifier accepted it');
    else r.pass(EXEC_CHECK.rejected, `insn ${v.error.insnIdx}: ${v.error.message}`);
    return r.out;
  }
  // The expectation is deliberately wrong: the run must be judged a mismatch.
  const local = judge(data, inProcess(data, build.insns));
  r.expect(EXEC_CHECK.mismatch, local !== undefined, 'the wrong expected result was accepted');
  return r.out;
};

export const executionStage: Stage = {
  name: 'execution',
  run: (c) => (c.group === 'tests' ? checkTest(c) : checkNegative(c)),
};
