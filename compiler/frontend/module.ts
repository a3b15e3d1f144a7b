/** Module-level declarations: maps, ring buffers, struct layouts, constants, functions and programs. */
import ts from 'typescript';
import { BPF_MAP_TYPE } from '../../bpf/abi/map-types.ts';
import { isValidRingbufSize } from '../../bpf/abi/ringbuf.ts';
import { type FieldDecl, layoutFields } from '../dsl/struct.ts';
import { DiagnosticSink } from '../diagnostics.ts';
import { newFunction } from '../ir/ir.ts';
import { Cx, type ModuleInfo } from './context.ts';
import { lowerExpr } from './expr.ts';
import type { FunctionNode } from './stmt.ts';
import { signatureOf } from './subprogram.ts';
import { INT_TYPES, isIntTypeName } from '../ir/range.ts';
import type { MapInfo, Value } from './values.ts';

export interface ProgramSource {
  readonly name: string;
  readonly section: string;
  readonly license: string;
  readonly fault: number;
  readonly body: ts.ArrowFunction | ts.FunctionExpression;
  readonly node: ts.Node;
}

/** Reads `{ a: 1, b: 'x' }` of literals. */
const literalObject = (
  cx: Cx,
  e: ts.Expression | undefined,
): Map<string, { node: ts.Node; value: string | number }> | undefined => {
  if (e === undefined || !ts.isObjectLiteralExpression(e)) return undefined;
  const out = new Map<string, { node: ts.Node; value: string | number }>();
  for (const p of e.properties) {
    if (!ts.isPropertyAssignment(p) || !(ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) {
      cx.error('NOT_CONSTANT', p, 'each property (write `name: literal`)');
      continue;
    }
    const v = p.initializer;
    if (ts.isStringLiteral(v) || ts.isNoSubstitutionTemplateLiteral(v))
      out.set(p.name.text, { node: p, value: v.text });
    else {
      const x = lowerExpr(cx, v);
      if (x.kind === 'int' && x.reg === undefined && x.value !== undefined)
        out.set(p.name.text, { node: p, value: Number(x.value) });
      else cx.error('NOT_CONSTANT', v, `\`${cx.text(v)}\``);
    }
  }
  return out;
};

const numberProp = (
  cx: Cx,
  obj: Map<string, { node: ts.Node; value: string | number }>,
  key: string,
  at: ts.Node,
  dflt?: number,
): number => {
  const p = obj.get(key);
  if (p === undefined) {
    if (dflt !== undefined) return dflt;
    cx.error('BAD_DECL', at, `missing \`${key}\``);
    return 0;
  }
  if (typeof p.value !== 'number') cx.error('BAD_DECL', p.node, `\`${key}\` must be a number`);
  return Number(p.value);
};

const mapDecl = (
  cx: Cx,
  name: string,
  kind: 'arrayMap' | 'hashMap' | 'ringbuf',
  call: ts.CallExpression,
): MapInfo | undefined => {
  const obj = literalObject(cx, call.arguments[0]);
  if (obj === undefined) {
    cx.error('NOT_CONSTANT', call, 'the map definition (an object literal)');
    return undefined;
  }
  if (kind === 'ringbuf') {
    const size = numberProp(cx, obj, 'size', call);
    if (!isValidRingbufSize(size))
      cx.error('BAD_DECL', call, `ring buffer size ${size}: a power of two and a multiple of 4096`);
    return { name, kind: 'ringbuf', type: BPF_MAP_TYPE.RINGBUF, keySize: 0, valueSize: 0, maxEntries: size };
  }
  const valueSize = numberProp(cx, obj, 'valueSize', call);
  const maxEntries = numberProp(cx, obj, 'maxEntries', call);
  if (valueSize < 1 || maxEntries < 1) cx.error('BAD_DECL', call, 'valueSize and maxEntries must be positive');
  return kind === 'arrayMap'
    ? { name, kind: 'array', type: BPF_MAP_TYPE.ARRAY, keySize: 4, valueSize, maxEntries }
    : { name, kind: 'hash', type: BPF_MAP_TYPE.HASH, keySize: 4, valueSize, maxEntries };
};

/** `table('u8', [1, 2, 3])`: the values appended to .rodata, aligned to their width. */
const tableDecl = (cx: Cx, call: ts.CallExpression): Value | undefined => {
  const [typeArg, valuesArg] = call.arguments;
  const name = typeArg !== undefined && ts.isStringLiteral(typeArg) ? typeArg.text : '';
  if (
    !isIntTypeName(name) ||
    INT_TYPES[name].big ||
    valuesArg === undefined ||
    !ts.isArrayLiteralExpression(valuesArg)
  ) {
    cx.error('BAD_DECL', call, "table('u8' | 'u16' | 'u32' | 'i8' | 'i16' | 'i32', [integer literals])");
    return undefined;
  }
  const elem = INT_TYPES[name];
  const width = elem.bits / 8;
  const values: bigint[] = [];
  for (const e of valuesArg.elements) {
    const v = lowerExpr(cx, e);
    if (v.kind !== 'int' || v.reg !== undefined || v.value === undefined) {
      if (v.kind !== 'error') cx.error('NOT_CONSTANT', e, `the table entry \`${cx.text(e)}\``);
      return undefined;
    }
    if (!cx.checkFits(v, elem, e)) return undefined;
    values.push(v.value);
  }
  if (values.length === 0) {
    cx.error('BAD_DECL', valuesArg, 'an empty table');
    return undefined;
  }
  const ro = cx.module.rodata.bytes;
  while (ro.length % width !== 0) ro.push(0);
  const offset = ro.length;
  for (const v of values)
    for (let k = 0; k < width; k++) ro.push(Number((BigInt.asUintN(elem.bits, v) >> BigInt(8 * k)) & 0xffn));
  while (ro.length % 8 !== 0) ro.push(0);
  return { kind: 'table', offset, elem, length: values.length };
};

/**
 * `import { X, T } from './consts.ts'` of another DSL file: each name must be a module-level `const`
 * there holding an integer constant or a `table(...)` (type-only names are fine); anything else is
 * reported at the import. The other file's constants are evaluated in its own scope (they may use
 * each other), with diagnostics reported at the importing name.
 */
const readImport = (cx: Cx, mod: ModuleInfo, s: ts.ImportDeclaration): void => {
  const names = s.importClause?.namedBindings;
  if (s.importClause?.isTypeOnly) return;
  const elements = names !== undefined && ts.isNamedImports(names) ? names.elements : [];
  if (names !== undefined && ts.isNamespaceImport(names)) {
    if (!isDsl(cx, cx.checker.getSymbolAtLocation(s.moduleSpecifier)))
      cx.error('UNSUPPORTED', names, 'a namespace import of a DSL file (import the constants by name)');
    return;
  }
  if (s.importClause?.name !== undefined) cx.error('UNSUPPORTED', s.importClause.name, 'a default import');
  for (const e of elements) {
    if (e.isTypeOnly) continue;
    const local = cx.checker.getSymbolAtLocation(e.name);
    if (local === undefined) continue;
    const target = local.flags & ts.SymbolFlags.Alias ? cx.checker.getAliasedSymbol(local) : local;
    if (cx.dslName(target) !== undefined) continue;
    const decl = target.declarations?.[0];
    // types and interfaces carry no value
    if (decl !== undefined && (ts.isTypeAliasDeclaration(decl) || ts.isInterfaceDeclaration(decl))) continue;
    if (mod.consts.has(target) || mod.structs.has(target)) continue;
    const what = `\`${e.name.text}\` from ${s.moduleSpecifier.getText(cx.source)}`;
    const v =
      decl !== undefined &&
      ts.isVariableDeclaration(decl) &&
      decl.initializer !== undefined &&
      ts.isVariableDeclarationList(decl.parent) &&
      decl.parent.flags & ts.NodeFlags.Const
        ? importedValue(cx, mod, decl, new Set())
        : undefined;
    if (v === undefined) cx.error('BAD_IMPORT', e, what);
  }
};

const isDsl = (cx: Cx, moduleSym: ts.Symbol | undefined): boolean =>
  moduleSym?.declarations?.[0]?.getSourceFile().fileName.startsWith(cx.dslDir) === true;

/** The value of another file's `const` (an integer constant or a table), registered in `mod`. */
const importedValue = (
  cx: Cx,
  mod: ModuleInfo,
  decl: ts.VariableDeclaration,
  visiting: Set<ts.VariableDeclaration>,
): Value | undefined => {
  const sym = ts.isIdentifier(decl.name) ? cx.checker.getSymbolAtLocation(decl.name) : undefined;
  const init = decl.initializer;
  if (sym === undefined || init === undefined || visiting.has(decl)) return undefined;
  const known = mod.consts.get(sym) ?? mod.structs.get(sym);
  if (known !== undefined) return known;
  visiting.add(decl);
  const file = decl.getSourceFile();
  // its own constants first (those it uses), in its own scope; errors go to a sink of their own
  const sink = new DiagnosticSink(file.fileName, () => ({ line: 0, col: 0 }));
  const other = new Cx(newFunction('<import>'), cx.checker, file, sink, mod, cx.dslDir, 0);
  const uses = (n: ts.Node): void => {
    if (ts.isIdentifier(n)) {
      const a = cx.checker.getSymbolAtLocation(n);
      const u = a !== undefined && a.flags & ts.SymbolFlags.Alias ? cx.checker.getAliasedSymbol(a) : a;
      const d = u?.valueDeclaration;
      if (
        d !== undefined &&
        d !== decl &&
        ts.isVariableDeclaration(d) &&
        !d.getSourceFile().fileName.startsWith(cx.dslDir)
      )
        importedValue(cx, mod, d, visiting);
    }
    n.forEachChild(uses);
  };
  uses(init);
  const callee =
    ts.isCallExpression(init) && ts.isIdentifier(init.expression)
      ? other.dslName(other.symbolOf(init.expression))
      : undefined;
  let v: Value | undefined;
  if (callee === 'table') {
    v = tableDecl(other, init as ts.CallExpression);
    if (v !== undefined) mod.structs.set(sym, v);
  } else if (callee === undefined && !ts.isArrowFunction(init) && !ts.isFunctionExpression(init)) {
    const x = lowerExpr(other, init);
    if (x.kind === 'int' && x.reg === undefined && sink.count === 0) {
      v = x;
      mod.consts.set(sym, x);
    }
  }
  visiting.delete(decl);
  return sink.count === 0 ? v : undefined;
};

/**
 * Functions whose body has at least this many syntax nodes (statements, expressions, names, literals)
 * are compiled once and called when they can be: see `outline`.
 */
export const OUTLINE_NODES = 300;

/** Syntax nodes in a function's body: the size outlining goes by (from the source, so stable). */
const bodySize = (fn: FunctionNode): number => {
  let n = 0;
  const walk = (x: ts.Node): void => {
    n++;
    ts.forEachChild(x, walk);
  };
  if (fn.body !== undefined) walk(fn.body);
  return n;
};

/**
 * Functions of the file called from two places or more, of OUTLINE_NODES syntax nodes or more, whose
 * signature BPF passes in registers (as `noinline` requires), become subprograms: each inlined copy
 * would be verified again. `inline(fn)` keeps a function inlined.
 */
const outline = (cx: Cx, mod: ModuleInfo, keep: ReadonlySet<ts.Symbol>): void => {
  const calls = new Map<ts.Symbol, number>();
  const walk = (x: ts.Node): void => {
    if (ts.isCallExpression(x) && ts.isIdentifier(x.expression)) {
      const s = cx.symbolOf(x.expression);
      if (s !== undefined && mod.functions.has(s)) calls.set(s, (calls.get(s) ?? 0) + 1);
    }
    ts.forEachChild(x, walk);
  };
  walk(cx.source);
  for (const [sym, fn] of mod.functions) {
    if (keep.has(sym) || (calls.get(sym) ?? 0) < 2 || bodySize(fn) < OUTLINE_NODES) continue;
    if (signatureOf(cx, fn, sym.getName(), false) === undefined) continue;
    mod.functions.delete(sym);
    mod.subprograms.set(sym, { name: sym.getName(), fn });
  }
};

/** Collects the module's declarations into `mod`; returns the programs. */
export const readModule = (cx: Cx, mod: ModuleInfo): ProgramSource[] => {
  const programs: ProgramSource[] = [];
  const keep = new Set<ts.Symbol>();
  for (const s of cx.source.statements) {
    if (ts.isImportDeclaration(s)) {
      readImport(cx, mod, s);
      continue;
    }
    if (ts.isTypeAliasDeclaration(s) || ts.isInterfaceDeclaration(s)) continue;
    if (ts.isFunctionDeclaration(s)) {
      const sym = s.name === undefined ? undefined : cx.symbolOf(s.name);
      if (sym !== undefined) mod.functions.set(sym, s);
      continue;
    }
    if (!ts.isVariableStatement(s)) {
      cx.error('UNSUPPORTED', s, `${ts.SyntaxKind[s.kind]} at module level`);
      continue;
    }
    if (!(s.declarationList.flags & ts.NodeFlags.Const)) {
      cx.error('UNSUPPORTED', s, 'a module-level `let` (use a map for state)');
      continue;
    }
    for (const d of s.declarationList.declarations) {
      const init = d.initializer;
      const sym = ts.isIdentifier(d.name) ? cx.symbolOf(d.name) : undefined;
      if (init === undefined || sym === undefined || !ts.isIdentifier(d.name)) {
        cx.error('UNSUPPORTED', d, 'this declaration');
        continue;
      }
      const name = d.name.text;
      const callee =
        ts.isCallExpression(init) && ts.isIdentifier(init.expression)
          ? cx.dslName(cx.symbolOf(init.expression))
          : undefined;
      const call = init as ts.CallExpression;
      if (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) {
        // `const f = (a: u32): u32 => ...`: a function like a declaration (inlined where called)
        mod.functions.set(sym, init);
        continue;
      }
      if (callee === 'inline') {
        const fn = call.arguments[0];
        if (fn !== undefined && (ts.isArrowFunction(fn) || ts.isFunctionExpression(fn))) {
          mod.functions.set(sym, fn);
          keep.add(sym);
        } else cx.error('BAD_DECL', call, 'inline((a: u32, ...): T => ...) takes a function');
        continue;
      }
      if (callee === 'noinline') {
        const fn = call.arguments[0];
        if (fn !== undefined && (ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)))
          mod.subprograms.set(sym, { name, fn });
        else cx.error('BAD_DECL', call, 'noinline((a: u32, ...): T => ...) takes a function');
        continue;
      }
      if (callee === 'arrayMap' || callee === 'hashMap' || callee === 'ringbuf') {
        const m = mapDecl(cx, name, callee, call);
        if (m !== undefined) mod.maps.set(sym, m);
      } else if (callee === 'struct') {
        const arg = call.arguments[0];
        const fields: Record<string, FieldDecl> = {};
        const obj = literalObject(cx, arg);
        for (const [k, v] of obj ?? []) fields[k] = v.value as FieldDecl;
        const layout = layoutFields(fields);
        const last = layout[layout.length - 1];
        mod.structs.set(sym, {
          kind: 'structdef',
          fields: layout,
          size: last === undefined ? 0 : last.offset + last.size,
        });
      } else if (callee === 'table') {
        const t = tableDecl(cx, call);
        if (t !== undefined) mod.structs.set(sym, t);
      } else if (callee === 'program') {
        const obj = literalObject(cx, call.arguments[0]);
        const body = call.arguments[1];
        if (obj === undefined || body === undefined || !(ts.isArrowFunction(body) || ts.isFunctionExpression(body))) {
          cx.error('BAD_DECL', call, 'program({ section, license }, (ctx) => ...) takes a literal and a function');
          continue;
        }
        const str = (k: string): string => {
          const v = obj.get(k);
          if (typeof v?.value !== 'string')
            cx.error('BAD_DECL', call.arguments[0] as ts.Node, `\`${k}\` must be a string literal`);
          return String(v?.value ?? '');
        };
        programs.push({
          name,
          section: str('section'),
          license: str('license'),
          fault: numberProp(cx, obj, 'fault', call, 0),
          body,
          node: d,
        });
      } else {
        const v = lowerExpr(cx, init);
        if (v.kind === 'int' && v.reg === undefined) mod.consts.set(sym, v);
        else if (v.kind !== 'error') cx.error('NOT_CONSTANT', init, `the module constant \`${name}\``);
      }
    }
  }
  outline(cx, mod, keep);
  return programs;
};
