/**
 * Native mode for DSL source that is not a file on disk (generated programs): the TypeScript is
 * stripped of its types (esbuild, as tsx does for files) and evaluated against the DSL library, exactly as Node
 * runs a parser file, so `Program.run` executes the same source the compiler compiled.
 */
import { transformSync } from 'esbuild';
import * as dsl from '../../../compiler/dsl/index.ts';

/** Evaluates a DSL module whose only import is the DSL; returns its exports. */
export const evalDslModule = (text: string): Record<string, unknown> => {
  const js = transformSync(text, { loader: 'ts', format: 'cjs', target: 'es2022' }).code;
  const module = { exports: {} as Record<string, unknown> };
  const require = (): typeof dsl => dsl;
  new Function('module', 'exports', 'require', js)(module, module.exports, require);
  return module.exports;
};
