/**
 * Programs of a BPF ELF object, linked the way libbpf prepares them for BPF_PROG_LOAD: used .text
 * subprograms appended after the program (in order of first use), calls and callback addresses
 * resolved, map references turned into lddw src=1 (map) / src=2 (global data, value offset) with
 * the map's index as immediate, global-data sections as single-element array maps (.rodata
 * read-only to the program and frozen), and the program type from the section name.
 */
import { progTypeForSection, type SectionMatch } from '../../../bpf/abi/index.ts';
import type { BpfFunction, BpfObject, FunctionReloc } from '../../../bpf/elf/index.ts';
import { R_BPF } from '../../../bpf/elf/index.ts';
import { type Insn, type RawSlot, toSlots } from '../../../bpf/isa/index.ts';
import { kexecParserHook, socketFilter, syscall, tracingFentry, xdp } from '../policy/prog-types.ts';
import type { ProgramPolicy } from '../policy/types.ts';
import type { MapDesc } from '../state/reg.ts';
import type { VerifyOptions } from '../verify.ts';

export class LinkError extends Error {
  override readonly name = 'LinkError';
}

export interface LinkedProgram {
  readonly name: string;
  readonly section: string;
  readonly slots: readonly RawSlot[];
  /** Maps referenced by index from lddw immediates. */
  readonly maps: readonly MapDesc[];
  readonly license: string;
  /** func_info linkage per subprogram when the object has BTF (libbpf always loads it then). */
  readonly funcLinkage: readonly ('static' | 'global')[] | undefined;
  readonly match: SectionMatch | undefined;
  /** The verifier policy of the section's program type; undefined when not modelled. */
  readonly policy: ProgramPolicy | undefined;
}

const MAP_RDONLY_PROG = 0x80;
const MAP_TYPE_ARRAY = 2;
const SLOT = 8;

/** The maps libbpf creates for an object: BTF-defined maps, then one per global-data section. */
export const objectMaps = (obj: BpfObject): MapDesc[] => [
  ...obj.maps.map((m) => ({
    name: m.name,
    type: m.type,
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: m.maxEntries,
    flags: m.flags,
  })),
  ...obj.data.map((d) => ({
    name: d.name,
    type: MAP_TYPE_ARRAY,
    keySize: 4,
    valueSize: d.size,
    maxEntries: 1,
    flags: d.kind === 'rodata' ? MAP_RDONLY_PROG : 0,
    frozen: d.kind === 'rodata',
    data: d.bytes,
  })),
];

/** The verifier policy for a libbpf section name, when the program type is modelled. */
export const policyForSection = (m: SectionMatch | undefined): ProgramPolicy | undefined => {
  switch (m?.progType) {
    case 'BPF_PROG_TYPE_SOCKET_FILTER':
      return socketFilter;
    case 'BPF_PROG_TYPE_XDP':
      return xdp;
    case 'BPF_PROG_TYPE_SYSCALL':
      return syscall;
    case 'BPF_PROG_TYPE_TRACING':
      if (m.target === kexecParserHook.attachTarget) return kexecParserHook;
      return m.expectedAttachType === 'BPF_TRACE_FENTRY' ? tracingFentry([], m.target ?? '') : undefined;
    default:
      return undefined;
  }
};

interface Placed {
  readonly fn: BpfFunction;
  readonly start: number;
}

/** Links program `fn` of `obj`. */
export const linkProgram = (obj: BpfObject, fn: BpfFunction): LinkedProgram => {
  const maps = objectMaps(obj);
  const placed: Placed[] = [];
  const code: Insn[] = [];
  const functionAt = (section: string, byteOff: number): BpfFunction => {
    const f =
      obj.subprograms.find((s) => s.section === section && s.offset === byteOff) ??
      obj.programs.find((s) => s.section === section && s.offset === byteOff);
    if (!f) throw new LinkError(`no function at ${section}+${byteOff}`);
    return f;
  };
  const place = (f: BpfFunction): number => {
    const hit = placed.find((p) => p.fn === f);
    if (hit) return hit.start;
    const start = code.reduce((n, i) => n + i.spec.slots, 0);
    placed.push({ fn: f, start });
    code.push(...f.insns);
    return start;
  };
  place(fn);
  for (let k = 0; k < placed.length; k++) {
    const p = placed[k] as Placed;
    const base = code.indexOf(p.fn.insns[0] as Insn);
    const slotOfInsn: number[] = [];
    let pc = p.start;
    for (const i of p.fn.insns) {
      slotOfInsn.push(pc);
      pc += i.spec.slots;
    }
    const relocated = new Set<number>();
    for (const rel of p.fn.relocations) {
      const at = base + rel.insn;
      relocated.add(rel.insn);
      code[at] = relocate(obj, code[at] as Insn, rel, slotOfInsn[rel.insn] as number, (sec, off) =>
        place(functionAt(sec, off)),
      );
    }
    // Calls and callback addresses inside one section need no relocation: clang resolved them
    // relative to the section, so they are re-targeted to where the callee is placed.
    p.fn.insns.forEach((insn, j) => {
      const local = (insn.spec.kind === 'call' && insn.src === 1) || (insn.spec.kind === 'lddw' && insn.src === 4);
      if (!local || relocated.has(j)) return;
      const inSection = (slotOfInsn[j] as number) - p.start;
      const target = place(functionAt(p.fn.section, p.fn.offset + (inSection + insn.imm + 1) * SLOT));
      code[base + j] = { ...insn, imm: target - (slotOfInsn[j] as number) - 1 };
    });
  }
  const match = progTypeForSection(fn.section);
  return {
    name: fn.name,
    section: fn.section,
    slots: code.flatMap(toSlots),
    maps,
    license: obj.license ?? '',
    funcLinkage: obj.btf ? placed.map((p, i) => (i === 0 || p.fn.global ? 'global' : 'static')) : undefined,
    match,
    policy: policyForSection(match),
  };
};

const relocate = (
  obj: BpfObject,
  insn: Insn,
  rel: FunctionReloc,
  pc: number,
  placeFn: (section: string, byteOff: number) => number,
): Insn => {
  const sym = rel.symbol;
  const section = sym.section;
  if (section === undefined) throw new LinkError(`unresolved symbol ${sym.name} (externs and kfuncs are not linked)`);
  if (rel.type === R_BPF.R_BPF_64_32 && insn.spec.kind === 'call') {
    const target = placeFn(section, sym.value + (insn.imm + 1) * SLOT);
    return { ...insn, src: 1, imm: target - pc - 1 };
  }
  if (rel.type !== R_BPF.R_BPF_64_64 || insn.spec.kind !== 'lddw') {
    throw new LinkError(`unsupported relocation ${rel.type} against ${sym.name} at insn ${rel.insn}`);
  }
  if (section === '.maps') {
    const i = obj.maps.findIndex((m) => m.offset === sym.value);
    if (i < 0) throw new LinkError(`no map at .maps+${sym.value} (${sym.name})`);
    return { ...insn, src: 1, imm: i, imm2: 0 };
  }
  const d = obj.data.findIndex((s) => s.name === section);
  if (d >= 0) return { ...insn, src: 2, imm: obj.maps.length + d, imm2: sym.value + insn.imm };
  if (obj.sections.find((s) => s.name === section && s.flags & 4)) {
    const target = placeFn(section, sym.value + insn.imm);
    return { ...insn, src: 4, imm: target - pc - 1, imm2: 0 };
  }
  throw new LinkError(`relocation against ${sym.name} in ${section} is not supported`);
};

/** The verify() options a libbpf-style load of `p` amounts to: its maps, license, sleepable flag, func_info. */
export const linkedVerifyOptions = (p: LinkedProgram, policy: ProgramPolicy): VerifyOptions => ({
  policy,
  maps: p.maps,
  license: p.license,
  sleepable: p.match?.sleepable ?? false,
  funcLinkage: p.funcLinkage,
});
