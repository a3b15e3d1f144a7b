/**
 * The interpreter's switch uses literal micro-op numbers (see the comment in interpreter.ts); this
 * keeps them tied to the one table in uops.ts: every `case N /* NAME *\/` must have U.NAME === N, and
 * every micro-op must have exactly one case.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { U } from '../../../runtime/vm/uops.ts';
import { REPO_ROOT } from '../../support/clang.ts';

it('every case label of the dispatch loop is the micro-op it names, each exactly once', () => {
  const source = readFileSync(join(REPO_ROOT, 'runtime/vm/interpreter.ts'), 'utf8');
  const labels = [...source.matchAll(/case (\d+) \/\* ([A-Z0-9_]+) \*\/:/g)].map((m) => [m[2], Number(m[1])] as const);
  for (const [name, value] of labels)
    expect((U as Record<string, number>)[name as string], `case ${value} ${name}`).toBe(value);
  const names = labels.map(([name]) => name).sort();
  const handled = Object.keys(U).filter((k) => k !== 'TRAP');
  expect(names).toEqual(handled.sort());
});
