/**
 * The verifier's differential corpus: hand-written rule pairs, the bpf_conformance programs wrapped
 * in an XDP program (runtime/linux/wrap.ts: the program becomes a subprogram reading its memory from
 * an array-map value), the clang fixtures of test/fixtures/clang whose program type is modelled, and
 * fast-check programs. Each entry carries what both verifiers need to load it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ElfError, readObject } from '../../../../bpf/elf/index.ts';
import { type RawSlot, toSlots } from '../../../../bpf/isa/index.ts';
import { wrapProgram } from '../../../../runtime/linux/wrap.ts';
import {
  type MapDesc,
  type ProgramPolicy,
  socketFilter,
  syscall,
  type VerifyOptions,
  xdp,
} from '../../../../runtime/verifier/index.ts';
import { LinkError, linkProgram } from '../../../../runtime/verifier/load/object.ts';
import { clangFixtures, compileFixture, REPO_ROOT } from '../../../support/clang.ts';
import { missingTool } from '../../../support/env.ts';
import { buildProgram, loadCorpus } from '../../../conformance/corpus.ts';
import { asmSlots } from '../support/asm.ts';
import type { KernelProgram } from '../support/kernel.ts';
import { generatedCases } from './generated.ts';
import { HAND_CASES, type HandCase, MAPS, type ProgKind } from './hand.ts';

export type Family = 'hand' | 'conformance' | 'clang' | 'generated';

export interface DiffProgram {
  readonly family: Family;
  readonly name: string;
  readonly slots: readonly RawSlot[];
  readonly policy: ProgramPolicy;
  readonly progType: number;
  readonly expectedAttachType: number;
  readonly sleepable: boolean;
  readonly maps: readonly MapDesc[];
  readonly license: string;
  /** Subprogram starts and linkage, when the program carries func_info. */
  readonly funcInfo: readonly { readonly start: number; readonly linkage: 'static' | 'global' }[] | undefined;
}

/** A corpus program as the kernel's bpf(BPF_PROG_LOAD) takes it (support/kernel.ts), at log level `logLevel`. */
export const kernelLoad = (p: Omit<DiffProgram, 'family'>, logLevel: number): KernelProgram => ({
  slots: p.slots,
  progType: p.progType,
  expectedAttachType: p.expectedAttachType,
  progFlags: p.sleepable ? 16 : 0,
  maps: p.maps,
  license: p.license,
  funcInfo: p.funcInfo,
  logLevel,
});

/** The same program as our verify() takes it. */
export const ourOptions = (p: Omit<DiffProgram, 'family'>, logLevel = 0): VerifyOptions => ({
  policy: p.policy,
  maps: p.maps,
  license: p.license,
  sleepable: p.sleepable,
  funcLinkage: p.funcInfo?.map((f) => f.linkage),
  logLevel,
});

const KIND: Record<ProgKind, { policy: ProgramPolicy; progType: number; attach: number; sleepable: boolean }> = {
  socket: { policy: socketFilter, progType: 1, attach: 0, sleepable: false },
  xdp: { policy: xdp, progType: 6, attach: 37, sleepable: false },
  syscall: { policy: syscall, progType: 31, attach: 0, sleepable: true },
};

/** Subprogram entry points (pseudo calls and callback addresses), sorted, main first. */
export const subprogStarts = (slots: readonly RawSlot[]): number[] => {
  const starts = new Set([0]);
  for (let i = 0; i < slots.length; i++) {
    const s = slots[i] as RawSlot;
    if ((s.code === 0x85 && s.src === 1) || (s.code === 0x18 && s.src === 4)) starts.add(i + s.imm + 1);
    if (s.code === 0x18) i++;
  }
  return [...starts].sort((a, b) => a - b);
};

const fromHand = (c: HandCase, family: Family): DiffProgram => {
  const k = KIND[c.prog ?? 'socket'];
  const slots = asmSlots(c.asm, c.maps ?? MAPS);
  const funcs = c.funcs;
  return {
    family,
    name: c.name,
    slots,
    policy: k.policy,
    progType: k.progType,
    expectedAttachType: k.attach,
    sleepable: k.sleepable,
    maps: c.maps ?? MAPS,
    license: c.license ?? 'GPL',
    funcInfo: funcs ? subprogStarts(slots).map((start, i) => ({ start, linkage: funcs[i] ?? 'static' })) : undefined,
  };
};

export const handPrograms = (): DiffProgram[] => HAND_CASES.map((c) => fromHand(c, 'hand'));

export const generatedPrograms = (perKind: number): DiffProgram[] =>
  generatedCases(perKind).map((c) => fromHand({ ...c, maps: MAPS }, 'generated'));

const CONFORMANCE = process.env.CONFORMANCE_DIR ?? join(REPO_ROOT, '../shared/conformance');

/** bpf_conformance programs as subprograms of the XDP wrapper; [] when the corpus is absent. */
export const conformancePrograms = (dir = CONFORMANCE): DiffProgram[] => {
  if (!existsSync(dir)) return [];
  return loadCorpus(dir, /^tests\//).flatMap((c) => {
    if (c.data instanceof Error) return [];
    const built = buildProgram(c.data, c.path);
    if (built.kind !== 'program') return [];
    const memLength = c.data.mem?.length;
    const valueSize = 8 + Math.ceil((memLength ?? 0) / 8) * 8;
    const map: MapDesc = { name: 'ukibpf_run', type: 2, keySize: 4, valueSize, maxEntries: 1 };
    const slots = wrapProgram(built.insns, 0, memLength).flatMap(toSlots);
    return [
      {
        family: 'conformance' as const,
        name: c.name.replace(/\.data$/, ''),
        slots,
        policy: xdp,
        progType: 6,
        expectedAttachType: 37,
        sleepable: false,
        maps: [map],
        license: 'GPL',
        funcInfo: undefined,
      },
    ];
  });
};

/** Programs of the clang fixtures whose program type is modelled (needs clang). */
export const clangPrograms = (): DiffProgram[] => {
  if (missingTool('clang')) return [];
  return clangFixtures().flatMap((file) => {
    let obj: ReturnType<typeof readObject>;
    try {
      obj = readObject(readFileSync(compileFixture(file, 'v3')), { file });
    } catch (e) {
      if (e instanceof ElfError) return [];
      throw e;
    }
    return obj.programs.flatMap((fn) => {
      let linked: ReturnType<typeof linkProgram>;
      try {
        linked = linkProgram(obj, fn);
      } catch (e) {
        if (e instanceof LinkError) return [];
        throw e;
      }
      const m = linked.match;
      // Tracing programs need an attach target with BTF in the real kernel; they stay ours-only.
      if (!linked.policy || !m || m.progType === 'BPF_PROG_TYPE_TRACING') return [];
      const starts = subprogStarts(linked.slots);
      return [
        {
          family: 'clang' as const,
          name: `${file.split('/').pop()}:${fn.name}`,
          slots: linked.slots,
          policy: linked.policy,
          progType: m.progTypeId,
          expectedAttachType: m.expectedAttachTypeId,
          sleepable: m.sleepable,
          maps: linked.maps,
          license: linked.license,
          funcInfo: linked.funcLinkage?.map((linkage, i) => ({ start: starts[i] ?? 0, linkage })),
        },
      ];
    });
  });
};
