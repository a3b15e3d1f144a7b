import { describe, expect, it } from 'vitest';
import {
  BPF_FUNC,
  HELPER_ID_LIMIT,
  helperId,
  helperName,
  isProposedHelperId,
  LINUX_HELPER_MAX_ID,
  LINUX_HELPER_NAMES,
  PROPOSED_HELPER_IDS,
} from '../../../bpf/abi/index.ts';
import { missingUapiHeader, parseHelperMapper, readUapi } from './uapi-header.ts';

describe('helper ids', () => {
  it('covers Linux ids 0..211 with unique names', () => {
    expect(LINUX_HELPER_MAX_ID).toBe(211);
    expect(new Set(LINUX_HELPER_NAMES).size).toBe(LINUX_HELPER_NAMES.length);
    expect(LINUX_HELPER_NAMES.every((n) => n.startsWith('bpf_'))).toBe(true);
  });

  it('names the ids the verifier log prints', () => {
    expect(helperName(0)).toBe('bpf_unspec');
    expect(helperName(1)).toBe('bpf_map_lookup_elem');
    expect(helperName(12)).toBe('bpf_tail_call');
    expect(helperName(131)).toBe('bpf_ringbuf_reserve');
    expect(helperName(181)).toBe('bpf_loop');
    expect(helperName(211)).toBe('bpf_cgrp_storage_delete');
    expect(helperName(212)).toBe('bpf_helper_carrier');
    expect(helperName(214)).toBe('bpf_helper_supplement_initrd');
    expect(helperName(215)).toBe('unknown');
    expect(helperName(-1)).toBe('unknown');
    expect(helperName(1.5)).toBe('unknown');
  });

  it('puts the proposed helpers on the first free ids, colliding with nothing', () => {
    const ids = Object.values(PROPOSED_HELPER_IDS);
    expect(ids).toEqual([212, 213, 214]);
    for (const id of ids) {
      expect(id).toBeGreaterThan(LINUX_HELPER_MAX_ID);
      expect(isProposedHelperId(id)).toBe(true);
    }
    expect(isProposedHelperId(1)).toBe(false);
    expect(HELPER_ID_LIMIT).toBe(215);
  });

  it('maps names and BPF_FUNC enumerators both ways', () => {
    expect(BPF_FUNC.map_lookup_elem).toBe(1);
    expect(BPF_FUNC.probe_read_kernel).toBe(113);
    expect(BPF_FUNC.helper_decompress).toBe(213);
    expect(helperId('bpf_copy_from_user')).toBe(148);
    expect(helperId('copy_from_user')).toBeUndefined();
    for (let id = 0; id < HELPER_ID_LIMIT; id++) expect(helperId(helperName(id))).toBe(id);
  });

  it("agrees with the installed uapi header's helper mapper", (ctx) => {
    const why = missingUapiHeader();
    if (why) ctx.skip(why);
    const header = parseHelperMapper(readUapi());
    // Debian 12's header (Linux 6.1) stops before 210/211; compare every id it has
    expect(header.size).toBeGreaterThan(200);
    for (const [name, id] of header) expect(helperName(id)).toBe(`bpf_${name}`);
    expect([...header.values()].every((id) => !isProposedHelperId(id))).toBe(true);
  });
});
