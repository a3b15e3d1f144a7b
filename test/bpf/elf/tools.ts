/**
 * Runs llvm-readelf, llvm-objdump and bpftool on an object and parses what the ELF tests compare:
 * sections, symbols, relocations (llvm-readelf -W GNU style) and the raw BTF dump.
 */
import { spawnSync } from 'node:child_process';
import { findTool } from '../../support/env.ts';

export interface ToolRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export const run = (tool: string, args: readonly string[]): ToolRun => {
  const path = findTool(tool);
  if (path === undefined) throw new Error(`${tool} is not installed`);
  const r = spawnSync(path, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

const ok = (tool: string, args: readonly string[]): string => {
  const r = run(tool, args);
  if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
};

export interface ReadelfSection {
  readonly index: number;
  readonly name: string;
  readonly type: string;
  readonly offset: number;
  readonly size: number;
}

export const readelfSections = (file: string): ReadelfSection[] =>
  ok('llvm-readelf', ['-W', '-S', file])
    .split('\n')
    .flatMap((line) => {
      const m = /^\s*\[\s*(\d+)\]\s(\S*)\s+(\S+)\s+[0-9a-f]{16}\s+([0-9a-f]+)\s+([0-9a-f]+)\s/.exec(line);
      if (!m) return [];
      return [
        {
          index: Number(m[1]),
          name: m[2]!.trim(),
          type: m[3]!,
          offset: Number.parseInt(m[4]!, 16),
          size: Number.parseInt(m[5]!, 16),
        },
      ];
    });

export interface ReadelfSymbol {
  readonly value: number;
  readonly size: number;
  readonly type: string;
  readonly bind: string;
  readonly ndx: string;
  readonly name: string;
}

export const readelfSymbols = (file: string): ReadelfSymbol[] =>
  ok('llvm-readelf', ['-W', '-s', file])
    .split('\n')
    .flatMap((line) => {
      const m = /^\s*\d+:\s+([0-9a-f]+)\s+(\d+)\s+(\S+)\s+(\S+)\s+\S+\s+(\S+)\s?(.*)$/.exec(line);
      if (!m) return [];
      return [
        { value: Number.parseInt(m[1]!, 16), size: Number(m[2]), type: m[3]!, bind: m[4]!, ndx: m[5]!, name: m[6]! },
      ];
    });

export interface ReadelfReloc {
  readonly offset: number;
  readonly type: string;
  readonly symbol: string;
}

/** Relocations by REL section name. */
export const readelfRelocs = (file: string): Map<string, ReadelfReloc[]> => {
  const out = new Map<string, ReadelfReloc[]>();
  let current: ReadelfReloc[] | undefined;
  for (const line of ok('llvm-readelf', ['-W', '-r', file]).split('\n')) {
    const head = /^Relocation section '(.+)' at offset/.exec(line);
    if (head) {
      current = [];
      out.set(head[1]!, current);
      continue;
    }
    const m = /^([0-9a-f]{16})\s+[0-9a-f]{16}\s+(\S+)\s+[0-9a-f]{16}\s+(.*)$/.exec(line);
    if (m && current) current.push({ offset: Number.parseInt(m[1]!, 16), type: m[2]!, symbol: m[3]!.trim() });
  }
  return out;
};

/** `bpftool btf dump file X` (raw format). */
export const bpftoolBtf = (file: string): string => ok('bpftool', ['btf', 'dump', 'file', file]);

/** `llvm-objdump -d -r X`. */
export const objdump = (file: string): ToolRun => run('llvm-objdump', ['-d', '-r', file]);
