/**
 * A stage of the conformance run: a function from one corpus file to named check results. The
 * runner applies every stage to every file and prints counts per group and check; a stage that
 * cannot check something yet reports it `pending` rather than passing it.
 */
import type { CorpusCase, Group } from './corpus.ts';

export type Status = 'pass' | 'fail' | 'pending';

export interface CheckResult {
  readonly group: Group;
  readonly file: string;
  /** Short name, shared by all files checked the same way ("assembled", "asm = raw", ...). */
  readonly check: string;
  readonly status: Status;
  /** What went wrong, or what was observed (an expected error's text). */
  readonly detail?: string;
}

export interface Stage {
  readonly name: string;
  readonly run: (c: CorpusCase) => CheckResult[];
}

/** Result builder bound to one file. */
export const resultsFor = (c: CorpusCase) => {
  const out: CheckResult[] = [];
  const add = (check: string, status: Status, detail?: string): void => {
    out.push({ group: c.group, file: c.name, check, status, ...(detail === undefined ? {} : { detail }) });
  };
  return {
    out,
    add,
    pass: (check: string, detail?: string) => add(check, 'pass', detail),
    fail: (check: string, detail: string) => add(check, 'fail', detail),
    /** Pass if ok, else fail with the detail. */
    expect: (check: string, ok: boolean, detail: string) => add(check, ok ? 'pass' : 'fail', ok ? undefined : detail),
  };
};
