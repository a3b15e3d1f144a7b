import { describe, expect, it } from 'vitest';
import {
  argType,
  formatType,
  funcProtoProblems,
  HELPER_PROTOS,
  type HelperProto,
  helperById,
  helperByName,
  misconfiguredMessage,
  proto,
  registryMismatches,
  resolveArg,
  resolveRet,
} from '../../../bpf/abi/index.ts';

const REQUIRED = [
  1, 2, 3, 4, 5, 6, 7, 8, 12, 14, 112, 113, 115, 118, 125, 130, 131, 132, 133, 134, 148, 165, 181, 182, 212, 213, 214,
];

describe('helper prototypes', () => {
  it('has a prototype for every helper the project uses, under the name its id has', () => {
    for (const id of REQUIRED) expect(helperById(id)?.id, `helper #${id}`).toBe(id);
    expect(registryMismatches()).toEqual([]);
    expect(new Set(HELPER_PROTOS.map((p) => p.id)).size).toBe(HELPER_PROTOS.length);
    expect(helperByName('ringbuf_reserve')?.id).toBe(131);
    expect(helperByName('bpf_helper_carrier')?.id).toBe(212);
    expect(helperById(9)).toBeUndefined();
  });

  it.each(HELPER_PROTOS.map((p) => [p.name, p] as const))('%s passes check_func_proto', (_, p) => {
    expect(funcProtoProblems(p)).toEqual([]);
  });

  it('rejects malformed prototypes the way check_func_proto does', () => {
    const base: HelperProto = proto({
      id: 9999,
      name: 'bpf_unspec',
      decl: 'x',
      ret: resolveRetName(),
      args: [],
      scope: { progTypes: 'all' },
      origin: 'proposed',
    });
    const bad = (args: HelperProto['args']) => funcProtoProblems({ ...base, args });
    expect(bad([argType('ARG_CONST_SIZE')])).toEqual(['arg pair: arg1 is a size with no memory before it']);
    expect(bad([argType('ARG_PTR_TO_MEM', 'MEM_RDONLY'), argType('ARG_ANYTHING')])).toEqual([
      'arg pair: arg1 is memory without a size argument after it',
    ]);
    expect(bad([argType('ARG_ANYTHING'), argType('ARG_CONST_SIZE_OR_ZERO')])).toEqual([
      'arg pair: arg2 is a size but arg1 is not memory',
    ]);
    expect(bad([argType('ARG_PTR_TO_MEM'), argType('ARG_CONST_SIZE')])).toEqual([
      'rw flag: arg1 memory has neither MEM_WRITE nor MEM_RDONLY',
    ]);
    const twoRaw = bad([
      argType('ARG_PTR_TO_UNINIT_MEM'),
      argType('ARG_CONST_SIZE'),
      argType('ARG_PTR_TO_UNINIT_MEM'),
      argType('ARG_CONST_SIZE'),
    ]);
    expect(twoRaw).toEqual(['raw mode: more than one MEM_UNINIT memory argument']);
    expect(bad(Array.from({ length: 6 }, () => argType('ARG_ANYTHING')))).toEqual(['more than 5 arguments']);
    expect(misconfiguredMessage({ name: 'bpf_helper_carrier', id: 212 })).toBe(
      'kernel subsystem misconfigured func bpf_helper_carrier#212',
    );
  });

  it('expands aliases into base type and flags', () => {
    const uninit = resolveArg(argType('ARG_PTR_TO_UNINIT_MEM'));
    expect(uninit.base).toBe('ARG_PTR_TO_MEM');
    expect([...uninit.flags].sort()).toEqual(['MEM_UNINIT', 'MEM_WRITE']);
    const nullableWrite = resolveArg(argType('ARG_PTR_TO_MEM_OR_NULL', 'MEM_WRITE'));
    expect([...nullableWrite.flags].sort()).toEqual(['MEM_WRITE', 'PTR_MAYBE_NULL']);
    const rb = resolveRet(helperById(131)?.ret ?? resolveRetName());
    expect(rb.base).toBe('RET_PTR_TO_MEM');
    expect([...rb.flags].sort()).toEqual(['MEM_RINGBUF', 'PTR_MAYBE_NULL']);
    expect(formatType(argType('ARG_PTR_TO_MEM', 'PTR_MAYBE_NULL', 'MEM_RDONLY'))).toBe(
      'ARG_PTR_TO_MEM | PTR_MAYBE_NULL | MEM_RDONLY',
    );
  });

  it('matches Linux 6.18 on the facts the verifier acts on', () => {
    const facts = (id: number) => {
      const p = helperById(id);
      if (!p) throw new Error(`no proto ${id}`);
      return [p.gplOnly, p.mightSleep, formatType(p.ret), ...p.args.map(formatType)].join(', ');
    };
    expect(facts(1)).toBe('false, false, RET_PTR_TO_MAP_VALUE_OR_NULL, ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_KEY');
    expect(facts(6)).toBe('true, false, RET_INTEGER, ARG_PTR_TO_MEM | MEM_RDONLY, ARG_CONST_SIZE');
    expect(facts(113)).toBe('true, false, RET_INTEGER, ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING');
    expect(facts(131)).toBe(
      'false, false, RET_PTR_TO_RINGBUF_MEM_OR_NULL, ARG_CONST_MAP_PTR, ARG_CONST_ALLOC_SIZE_OR_ZERO, ARG_ANYTHING',
    );
    expect(facts(132)).toBe('false, false, RET_VOID, ARG_PTR_TO_RINGBUF_MEM | OBJ_RELEASE, ARG_ANYTHING');
    expect(facts(148)).toBe('false, true, RET_INTEGER, ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING');
    expect(facts(182)).toBe(
      'false, false, RET_INTEGER, ARG_PTR_TO_MEM | MEM_RDONLY, ARG_CONST_SIZE, ARG_PTR_TO_CONST_STR',
    );
  });

  it('confines the proposed helpers to sleepable programs on the kexec hook', () => {
    for (const id of [212, 213, 214]) {
      const p = helperById(id);
      expect(p?.origin).toBe('proposed');
      expect(p?.gplOnly).toBe(true);
      expect(p?.mightSleep).toBe(true);
      expect(p?.scope).toEqual({ progTypes: 'kexec-hook', hooks: ['kexec_pe_parser_hook'] });
    }
    expect(HELPER_PROTOS.filter((p) => p.origin === 'linux').every((p) => p.scope.progTypes !== 'kexec-hook')).toBe(
      true,
    );
  });
});

function resolveRetName() {
  return { name: 'RET_INTEGER', extra: [] } as const;
}
