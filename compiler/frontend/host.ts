/**
 * The TypeScript program for one DSL file, type-checked against the DSL prelude (compiler/dsl) and
 * ES2022's lib. Lib and DSL SourceFiles are parsed once per process and shared by every compile (a
 * custom CompilerHost), so a warm compile only parses and checks the user's file.
 */
import { readFileSync, statSync } from 'node:fs';
import ts from 'typescript';

export const COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ['lib.es2022.d.ts'],
  types: [],
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  allowImportingTsExtensions: true,
  noUncheckedIndexedAccess: true,
};

const cache = new Map<string, { mtime: number; sf: ts.SourceFile }>();
let previous: ts.Program | undefined;

const cachedSourceFile = (fileName: string, languageVersion: ts.ScriptTarget): ts.SourceFile | undefined => {
  let mtime: number;
  try {
    mtime = statSync(fileName).mtimeMs;
  } catch {
    return undefined;
  }
  const hit = cache.get(fileName);
  if (hit !== undefined && hit.mtime === mtime) return hit.sf;
  const sf = ts.createSourceFile(fileName, readFileSync(fileName, 'utf8'), languageVersion, true);
  cache.set(fileName, { mtime, sf });
  return sf;
};

/** Builds the TS program of `fileName` whose text is `text`; every other file comes from the cache. */
export const createDslProgram = (fileName: string, text: string): { program: ts.Program; source: ts.SourceFile } => {
  const base = ts.createCompilerHost(COMPILER_OPTIONS, true);
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true);
  const host: ts.CompilerHost = {
    ...base,
    getSourceFile: (name) => (name === fileName ? source : cachedSourceFile(name, ts.ScriptTarget.ES2022)),
    fileExists: (name) => name === fileName || base.fileExists(name),
    readFile: (name) => (name === fileName ? text : base.readFile(name)),
  };
  const program = ts.createProgram({ rootNames: [fileName], options: COMPILER_OPTIONS, host, oldProgram: previous });
  previous = program;
  return { program, source };
};
