/**
 * The LLVM pseudo-C assembler. Reads what disassembleLlvm prints and what `llvm-objdump -d[r]` prints
 * (with or without the address and bytes columns, symbol lines `0000000000000060 <LBB0_2>:`, section
 * headers, relocation lines), plus labels (`name:`), `goto label`, `call name`, `rN = name ll` and
 * comments (`;`, `//`, `#`). Every problem is collected; AsmError carries them all with line:col.
 */
import { makeInsn, slotIndex, spec as specOf } from '../../isa/index.ts';
import { type AsmDiagnostic, AsmError } from '../errors.ts';
import type { AsmProgram, SymbolRef } from '../program.ts';
import { lex } from './lexer.ts';
import { isRegisterName, ParseFault, parseStatement, type Statement } from './parse.ts';

export interface LlvmAsmOptions {
  /** File name for diagnostics. */
  readonly file?: string;
}

interface Placed {
  readonly stmt: Statement;
  readonly line: number;
  /** A relocation line from `llvm-objdump -r` naming the symbol this instruction refers to. */
  reloc?: { readonly symbol: string; readonly type: string; readonly line: number; readonly col: number };
}

const FILE_FORMAT = /^\S.*:\s+file format\s/;
const SECTION = /^Disassembly of section (.+):\s*$/;
const SYMBOL_LINE = /^[0-9a-fA-F]+ <([^<>]+)>:\s*$/;
const RELOC_LINE = /^(\s+[0-9a-fA-F]+:\s+)(R_BPF_\w+)\s+(\S+)\s*$/;
const ADDRESS = /^\s*[0-9]+:[ \t]*/;
const BYTES = /^(?:[0-9a-f]{2} ){7}[0-9a-f]{2}(?: (?:[0-9a-f]{2} ){7}[0-9a-f]{2})?[ \t]+/;
const LABEL = /^[ \t]*([A-Za-z_.$][A-Za-z0-9_.$]*)[ \t]*:/;
const ANNOTATION = /[ \t]+<[^<>\s]+>[ \t]*$/;

/** Index where a comment starts (`;`, `//` or `#`), or the line's length. */
const commentStart = (line: string): number => {
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === ';' || c === '#' || (c === '/' && line[i + 1] === '/')) return i;
  }
  return line.length;
};

/** Assembles LLVM pseudo-C text. Throws AsmError listing every problem. */
export const assembleLlvm = (text: string, opts: LlvmAsmOptions = {}): AsmProgram => {
  const diagnostics: AsmDiagnostic[] = [];
  const report = (line: number, col: number, message: string): void => {
    diagnostics.push({ line, col, message });
  };
  const placed: Placed[] = [];
  /** Label → index of the instruction it precedes. */
  const labelAt = new Map<string, number>();
  let sections = 0;

  text.split('\n').forEach((raw, i) => {
    const lineNo = i + 1;
    let line = raw.slice(0, commentStart(raw)).replace(/\s+$/, '');
    if (line.trim() === '' || FILE_FORMAT.test(line)) return;
    const section = SECTION.exec(line);
    if (section !== null) {
      if (++sections > 1) report(lineNo, 1, 'a second section: assemble one section at a time');
      return;
    }
    const reloc = RELOC_LINE.exec(line);
    if (reloc !== null) {
      const last = placed[placed.length - 1];
      const col = (reloc[1] as string).length + 1;
      if (last === undefined) report(lineNo, col, 'a relocation before any instruction');
      else if (last.reloc !== undefined) report(lineNo, col, 'a second relocation for one instruction');
      else last.reloc = { type: reloc[2] as string, symbol: reloc[3] as string, line: lineNo, col };
      return;
    }
    const symbolLine = SYMBOL_LINE.exec(line);
    if (symbolLine !== null) {
      defineLabel(symbolLine[1] as string, lineNo, line.indexOf('<') + 2);
      return;
    }
    // Columns stay those of the raw line: cut prefixes by blanking them, not by slicing.
    let from = 0;
    const address = ADDRESS.exec(line);
    if (address !== null) {
      from = address[0].length;
      const bytes = BYTES.exec(line.slice(from));
      if (bytes !== null) from += bytes[0].length;
    } else {
      for (let m = LABEL.exec(line.slice(from)); m !== null; m = LABEL.exec(line.slice(from))) {
        defineLabel(m[1] as string, lineNo, from + m[0].indexOf(m[1] as string) + 1);
        from += m[0].length;
      }
    }
    if (/\bgotol?\b/.test(line)) line = line.replace(ANNOTATION, '');
    if (line.slice(from).trim() === '') return;
    const { tokens, problems } = lex(line, from);
    if (problems.length > 0) {
      for (const p of problems) report(lineNo, p.col, p.message);
      return;
    }
    try {
      placed.push({ stmt: parseStatement(tokens, line.length + 1), line: lineNo });
    } catch (e) {
      if (!(e instanceof ParseFault)) throw e;
      report(lineNo, e.col, e.message);
    }
  });

  function defineLabel(name: string, line: number, col: number): void {
    if (isRegisterName(name)) report(line, col, `'${name}' is a register name, not a label`);
    else if (labelAt.has(name)) report(line, col, `label '${name}' is defined twice`);
    else labelAt.set(name, placed.length);
  }

  const built = resolve(placed, labelAt, report);
  if (diagnostics.length > 0) {
    diagnostics.sort((a, b) => a.line - b.line || a.col - b.col);
    throw new AsmError(diagnostics, opts.file);
  }
  return built;
};

/** Second pass: slot positions, label distances, calls and symbol references. */
const resolve = (
  placed: readonly Placed[],
  labelAt: ReadonlyMap<string, number>,
  report: (line: number, col: number, message: string) => void,
): AsmProgram => {
  const insns = placed.map((p) => makeInsn(p.stmt.spec, p.stmt.fields));
  const { pcs, slots } = slotIndex(insns);
  const slotOfIndex = (i: number): number => (i < pcs.length ? (pcs[i] as number) : slots);
  const labels = new Map<string, number>();
  for (const [name, i] of labelAt) labels.set(name, slotOfIndex(i));
  const refs: SymbolRef[] = [];

  placed.forEach((p, i) => {
    const { stmt } = p;
    const pc = slotOfIndex(i);
    const fields = { ...stmt.fields };
    let spec = stmt.spec;
    if (stmt.jump !== undefined) {
      const to = labels.get(stmt.jump.label);
      if (to === undefined) {
        report(p.line, stmt.jump.col, `undefined label '${stmt.jump.label}'`);
      } else {
        const distance = to - pc - 1;
        const limit = stmt.jump.field === 'off' ? 0x8000 : 0x80000000;
        if (distance < -limit || distance >= limit) {
          report(p.line, stmt.jump.col, `jump to '${stmt.jump.label}' is too far (${distance} slots)`);
        }
        fields[stmt.jump.field] = distance;
      }
    }
    if (stmt.callee !== undefined) {
      const to = labels.get(stmt.callee.name);
      if (to !== undefined) fields.imm = to - pc - 1;
      else refs.push({ insn: i, symbol: stmt.callee.name, kind: 'call' });
    }
    if (stmt.address !== undefined) refs.push({ insn: i, symbol: stmt.address.name, kind: 'lddw' });
    if (p.reloc !== undefined) {
      const r = p.reloc;
      const kind = r.type === 'R_BPF_64_64' ? 'lddw' : r.type === 'R_BPF_64_32' ? 'call' : undefined;
      const fitsInsn = kind === 'lddw' ? spec.kind === 'lddw' && fields.src === undefined : spec.kind === 'call';
      if (kind === undefined || !fitsInsn) {
        report(r.line, r.col, `relocation ${r.type} does not apply to this instruction`);
      } else if (stmt.callee === undefined && stmt.address === undefined) {
        refs.push({ insn: i, symbol: r.symbol, kind });
        // A relocated call is a bpf-to-bpf (or, after libbpf, kfunc) call: clang emits src = 1.
        if (kind === 'call' && spec.op === 'helper') {
          spec = specOf('call_local');
          fields.src = 1;
        }
      }
    }
    insns[i] = makeInsn(spec, fields);
  });
  return { insns, labels, refs, lines: placed.map((p) => p.line) };
};
