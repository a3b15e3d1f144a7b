import { describe, expect, it } from 'vitest';
import {
  ATTACH_TYPES,
  BPF_ATTACH_TYPE,
  BPF_MAP_TYPE,
  BPF_PROG_TYPE,
  type EnumLookup,
  type EnumRow,
  MAP_TYPES,
  PROG_TYPES,
} from '../../../bpf/abi/index.ts';
import { missingUapiHeader, parseEnum, readUapi } from './uapi-header.ts';

const TABLES: [string, EnumLookup<EnumRow>][] = [
  ['bpf_map_type', MAP_TYPES],
  ['bpf_prog_type', PROG_TYPES],
  ['bpf_attach_type', ATTACH_TYPES],
];

describe('uapi enums', () => {
  it.each(TABLES)('%s ids are dense from 0 and unique', (_, t) => {
    expect(t.rows.map((r) => r.id)).toEqual(t.rows.map((_r, i) => i));
  });

  it('knows the values the project relies on', () => {
    expect(BPF_MAP_TYPE.ARRAY).toBe(2);
    expect(BPF_MAP_TYPE.RINGBUF).toBe(27);
    expect(BPF_MAP_TYPE.ARENA).toBe(33);
    expect(BPF_PROG_TYPE.TRACING).toBe(26);
    expect(BPF_PROG_TYPE.SYSCALL).toBe(31);
    expect(BPF_ATTACH_TYPE.BPF_TRACE_FENTRY).toBe(24);
    expect(BPF_ATTACH_TYPE.BPF_MODIFY_RETURN).toBe(26);
    expect(MAP_TYPES.byName('BPF_MAP_TYPE_CGROUP_STORAGE_DEPRECATED')?.id).toBe(19);
    expect(MAP_TYPES.byName('ringbuf')?.name).toBe('BPF_MAP_TYPE_RINGBUF');
    expect(PROG_TYPES.byId(99)).toBeUndefined();
  });

  it('marks only values newer than Linux 6.18 with `since`', () => {
    expect(MAP_TYPES.rows.filter((r) => r.since).map((r) => r.name)).toEqual([
      'BPF_MAP_TYPE_INSN_ARRAY',
      'BPF_MAP_TYPE_RHASH',
    ]);
    expect(PROG_TYPES.rows.some((r) => r.since)).toBe(false);
    expect(ATTACH_TYPES.byName('BPF_TRACE_UPROBE_SESSION')?.since).toBeUndefined();
    expect(ATTACH_TYPES.byName('BPF_TRACE_FSESSION')?.since).toBe('7.0');
  });

  for (const [name, table] of TABLES) {
    it(`${name} agrees with the installed uapi header`, (ctx) => {
      const why = missingUapiHeader();
      if (why) ctx.skip(why);
      const header = parseEnum(readUapi(), name);
      expect(header.size).toBeGreaterThan(10);
      for (const [enumerator, value] of header) expect(table.byName(enumerator)?.id, enumerator).toBe(value);
    });
  }
});
