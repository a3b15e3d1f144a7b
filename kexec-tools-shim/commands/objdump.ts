/**
 * `ukibpf objdump FILE.o`: what a BPF ELF object holds, as libbpf would see it — sections, programs
 * (with their libbpf program type), maps, global data, relocations, license, BTF — and with `-d` each
 * function's disassembly in llvm-objdump's syntax. `--json` prints the same as one JSON document.
 */
import type { Command } from 'commander';
import { MAP_TYPES } from '../../bpf/abi/map-types.ts';
import { progTypeForSection } from '../../bpf/abi/sections.ts';
import { disassembleLlvm } from '../../bpf/asm/llvm/index.ts';
import { BTF_KIND_NAMES } from '../../bpf/btf/index.ts';
import {
  type BpfFunction,
  type BpfObject,
  ElfError,
  readObject,
  relocTypeName,
  STT,
  sectionTypeName,
} from '../../bpf/elf/index.ts';
import { encode, slotIndex } from '../../bpf/isa/index.ts';
import { CliError, ExitCode } from '../cli/exit.ts';
import { readInput } from '../cli/io.ts';

interface ObjdumpOptions {
  json?: boolean;
  disassemble?: boolean;
}

const hex = (n: number, width = 0): string => `0x${n.toString(16).padStart(width, '0')}`;

const mapTypeName = (type: number): string => MAP_TYPES.byId(type)?.short ?? `unknown(${type})`;

const functionSummary = (f: BpfFunction) => ({
  name: f.name,
  section: f.section,
  progType: progTypeForSection(f.section)?.progType ?? null,
  global: f.global,
  offset: f.offset,
  size: f.size,
  instructions: f.insns.length,
  slots: f.size / 8,
  lines: f.lines.length,
  coreRelos: f.coreRelos.length,
});

const relocationRows = (obj: BpfObject) =>
  obj.relocations.flatMap((rs) => {
    const code = [...obj.programs, ...obj.subprograms].filter((f) => f.section === rs.target.name);
    return rs.entries.map((e) => {
      const fn = code.find((f) => e.offset >= f.offset && e.offset < f.offset + f.size);
      const insn = fn?.relocations.find((r) => r.offset === e.offset)?.insn;
      return {
        section: rs.target.name,
        offset: e.offset,
        function: fn?.name ?? null,
        insn: insn ?? null,
        type: relocTypeName(e.type),
        symbol: e.symbol.name,
        symbolKind: e.symbol.type === STT.SECTION ? 'section' : e.symbol.shndx === 0 ? 'extern' : 'symbol',
      };
    });
  });

const btfSummary = (obj: BpfObject) => {
  if (obj.btf === undefined) return null;
  const kinds: Record<string, number> = {};
  for (const t of obj.btf.types.slice(1)) kinds[t.kind] = (kinds[t.kind] ?? 0) + 1;
  const count = (list: readonly { records: readonly unknown[] }[] | undefined): number =>
    (list ?? []).reduce((n, s) => n + s.records.length, 0);
  return {
    types: obj.btf.types.length - 1,
    kinds: Object.fromEntries(BTF_KIND_NAMES.filter((k) => kinds[k] !== undefined).map((k) => [k, kinds[k]])),
    funcInfo: count(obj.btfExt?.funcInfo),
    lineInfo: count(obj.btfExt?.lineInfo),
    coreRelos: count(obj.btfExt?.coreRelos),
  };
};

/** Each instruction as `slot: bytes  text`, jump targets named as llvm-objdump names them. */
const disassembly = (obj: BpfObject, f: BpfFunction): string[] => {
  const symbols = obj.symbols
    .filter((s) => s.section === f.section && s.type !== STT.SECTION && s.type !== STT.FILE)
    .map((s) => ({ name: s.name, offset: s.value - f.offset }));
  const text = disassembleLlvm(f.insns, { context: { section: f.section, symbols } });
  const { pcs } = slotIndex(f.insns);
  return f.insns.map((insn, i) => {
    const bytes = Array.from(encode([insn], obj.order), (b) => b.toString(16).padStart(2, '0')).join(' ');
    return `${String(pcs[i]).padStart(6)}:\t${bytes}\t${text[i] ?? ''}`;
  });
};

const summary = (obj: BpfObject, file: string, withCode: boolean) => ({
  file,
  order: obj.order,
  license: obj.license ?? null,
  version: obj.version ?? null,
  sections: obj.sections
    .slice(1)
    .map((s) => ({ index: s.index, name: s.name, type: sectionTypeName(s.type), size: s.size, offset: s.offset })),
  programs: obj.programs.map((f) => ({
    ...functionSummary(f),
    ...(withCode ? { disassembly: disassembly(obj, f) } : {}),
  })),
  subprograms: obj.subprograms.map((f) => ({
    ...functionSummary(f),
    ...(withCode ? { disassembly: disassembly(obj, f) } : {}),
  })),
  maps: obj.maps.map((m) => ({
    name: m.name,
    type: mapTypeName(m.type),
    typeId: m.type,
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: m.maxEntries,
    flags: m.flags,
  })),
  data: obj.data.map((d) => ({
    name: d.name,
    kind: d.kind,
    size: d.size,
    vars: d.vars.map((v) => ({ name: v.name, offset: v.offset, size: v.size })),
  })),
  relocations: relocationRows(obj),
  btf: btfSummary(obj),
});

/** Left-aligned columns. */
const table = (head: readonly string[], rows: readonly (readonly (string | number)[])[]): string[] => {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  return cells.map((r) =>
    r
      .map((v, c) => (c === r.length - 1 ? v : v.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd(),
  );
};

const text = (s: ReturnType<typeof summary>): string => {
  const out: string[] = [`${s.file}: BPF ELF object, ${s.order === 'le' ? 'little' : 'big'} endian`, ''];
  out.push(`license: ${s.license === null ? '(none)' : JSON.stringify(s.license)}`);
  if (s.version !== null) out.push(`version: ${hex(s.version)}`);
  out.push(
    '',
    'Sections:',
    ...table(
      ['Idx', 'Name', 'Type', 'Size', 'Offset'],
      s.sections.map((x) => [x.index, x.name, x.type, hex(x.size, 8), hex(x.offset, 8)]),
    ),
  );
  const fns = [...s.programs, ...s.subprograms];
  out.push('', 'Programs:');
  out.push(
    ...table(
      ['Name', 'Section', 'Type', 'Insns', 'Offset', 'Lines'],
      fns.map((f) => [
        f.name,
        f.section,
        f.section === '.text' || !f.global ? 'subprogram' : (f.progType ?? 'unknown'),
        f.instructions,
        hex(f.offset),
        f.lines,
      ]),
    ),
  );
  if (s.maps.length > 0) {
    out.push('', 'Maps:');
    out.push(
      ...table(
        ['Name', 'Type', 'Key', 'Value', 'MaxEntries', 'Flags'],
        s.maps.map((m) => [m.name, m.type, m.keySize, m.valueSize, m.maxEntries, hex(m.flags)]),
      ),
    );
  }
  if (s.data.length > 0) {
    out.push('', 'Global data:');
    out.push(
      ...table(
        ['Section', 'Size', 'Variables'],
        s.data.map((d) => [d.name, d.size, d.vars.map((v) => `${v.name}@${v.offset}`).join(' ')]),
      ),
    );
  }
  const code = new Set(fns.map((f) => f.section));
  const rel = s.relocations.filter((r) => code.has(r.section));
  if (rel.length > 0) {
    out.push('', 'Relocations:');
    out.push(
      ...table(
        ['Section', 'Offset', 'Insn', 'Type', 'Symbol'],
        rel.map((r) => [r.section, hex(r.offset), r.insn === null ? '-' : `${r.function}+${r.insn}`, r.type, r.symbol]),
      ),
    );
  }
  const others = s.relocations.length - rel.length;
  if (others > 0) out.push(`(${others} relocations in data/debug/BTF sections not shown; --json lists all)`);
  out.push(
    '',
    s.btf === null
      ? 'BTF: none'
      : `BTF: ${s.btf.types} types (${Object.entries(s.btf.kinds)
          .map(([k, n]) => `${k} ${n}`)
          .join(
            ', ',
          )}); func_info ${s.btf.funcInfo}, line_info ${s.btf.lineInfo}, CO-RE relocations ${s.btf.coreRelos}`,
  );
  for (const f of fns) {
    if (!('disassembly' in f)) continue;
    out.push('', `Disassembly of ${f.name} (section ${f.section}):`, ...(f.disassembly as string[]));
  }
  return `${out.join('\n')}\n`;
};

const run = (file: string, opts: ObjdumpOptions): void => {
  let obj: BpfObject;
  try {
    obj = readObject(readInput(file), { file });
  } catch (e) {
    if (e instanceof ElfError) {
      const where = e.section === undefined ? '' : ` (section ${e.section})`;
      throw new CliError(`${file}: ${e.code} at offset ${hex(e.offset)}${where}: ${e.detail}`, ExitCode.BAD_INPUT, {
        cause: e,
      });
    }
    throw e;
  }
  const s = summary(obj, file, opts.disassemble === true);
  process.stdout.write(opts.json ? `${JSON.stringify(s, null, 2)}\n` : text(s));
};

export const register = (program: Command): void => {
  program
    .command('objdump')
    .description('show the sections, programs, maps, relocations, license and BTF of a BPF ELF object')
    .argument('<file>', 'BPF ELF object (.o)')
    .option('-d, --disassemble', 'disassemble every function (llvm-objdump syntax)')
    .option('--json', 'print one JSON document')
    .action((file: string, opts: ObjdumpOptions) => run(file, opts));
};
