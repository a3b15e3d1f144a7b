/**
 * Runs a compiled DSL program in runtime/vm with array maps modelled as VM regions (helper 1,
 * bpf_map_lookup_elem; and bpf_loop), and natively through the DSL library, on the same input.
 */
import { readFileSync } from 'node:fs';
import { BPF_MAP_TYPE } from '../../../bpf/abi/map-types.ts';
import { type CompileOutput, compileSource, linkedInsns, linkedMaps } from '../../../compiler/index.ts';
import { BPF_FUNC } from '../../../bpf/abi/index.ts';
import { loopHelper } from '../../../runtime/helpers/index.ts';
import { HelperTable, Memory, type Region, Vm } from '../../../runtime/vm/index.ts';

const MAP_HANDLE_BASE = 0x1000n;

export const compileFile = (path: string): CompileOutput => compileSource(path, readFileSync(path, 'utf8'));

/** A loaded program: `run(input)` fills element 0 of the first array map and returns R0 as a signed value. */
export const loadCompiled = (out: CompileOutput, name?: string) => {
  const prog = name === undefined ? out.programs[0] : out.programs.find((p) => p.name === name);
  if (prog === undefined) throw new Error(`no program ${name ?? ''} (diagnostics: ${out.diagnostics.length})`);
  const maps = linkedMaps(out);
  const memory = new Memory();
  const values: Region[][] = maps.map((m) =>
    m.type === BPF_MAP_TYPE.ARRAY
      ? Array.from({ length: m.maxEntries }, (_, i) =>
          memory.add('map_value', m.data?.slice() ?? new Uint8Array(m.valueSize), `${m.name}[${i}]`, !m.frozen),
        )
      : [],
  );
  const helpers = new HelperTable()
    .set(1, (env) => {
      const handle = Number(env.arg(1) - MAP_HANDLE_BASE);
      const key = new DataView(env.memory.slice(env.arg(2), 4).slice().buffer).getUint32(0, true);
      env.setReturn(values[handle]?.[key]?.address ?? 0n);
    })
    .set(BPF_FUNC.loop, loopHelper);
  const vm = new Vm(linkedInsns(out, prog), {
    helpers,
    memory,
    resolveLddw: (kind, imm, imm2) =>
      kind === 'map_idx'
        ? MAP_HANDLE_BASE + BigInt(imm)
        : kind === 'map_idx_value'
          ? (values[imm]?.[0]?.address ?? 0n) + BigInt(imm2 >>> 0)
          : undefined,
  });
  const input = values.find((v, i) => v.length > 0 && maps[i]?.name !== '.rodata')?.[0];
  return {
    insns: prog.insns.length,
    run(bytes: Uint8Array): { r0: bigint; executed: number; memory: Uint8Array } {
      if (input === undefined) throw new Error('program has no array map for its input');
      input.bytes.fill(0);
      input.bytes.set(bytes.subarray(0, input.bytes.length));
      const { r0, insns } = vm.run({});
      return { r0: BigInt.asIntN(64, r0), executed: insns, memory: input.bytes.slice() };
    },
  };
};
