/**
 * A small object built with writeObject for the writer tests: an XDP program with an array map, a
 * ringbuf, a hash map, .rodata read through lddw, a static subprogram called through R_BPF_64_32, and line info.
 */
import { BPF_FUNC, BPF_MAP_TYPE } from '../../../bpf/abi/index.ts';
import type { BpfObjectSpec } from '../../../bpf/elf/index.ts';
import { insnNamed as i, lddw } from '../../../bpf/isa/index.ts';

const XDP_PASS = 2;
const BPF_F_NO_PREALLOC = 1;

export const sampleSpec = (license = 'GPL'): BpfObjectSpec => {
  const rodata = new Uint8Array(8);
  new DataView(rodata.buffer).setUint32(0, 0x2a, true);
  return {
    license,
    sourceFile: 'sample.ts',
    programs: [
      {
        name: 'xdp_count',
        section: 'xdp',
        insns: [
          i('stw', { dst: 10, off: -4, imm: 0 }), // 0: key = 0
          i('mov', { dst: 2, src: 10 }, 'X'), // 1
          i('add', { dst: 2, imm: -4 }, 'K'), // 2
          lddw(1, 0n), // 3: &counts (relocated)
          i('call', { imm: BPF_FUNC.map_lookup_elem }), // 4
          i('jeq', { dst: 0, imm: 0, off: 2 }, 'K'), // 5
          i('mov', { dst: 1, imm: 1 }, 'K'), // 6
          i('lock_add', { dst: 0, src: 1, off: 0 }), // 7
          lddw(1, 0n), // 8: &events
          i('mov', { dst: 2, imm: 8 }, 'K'), // 9
          i('mov', { dst: 3, imm: 0 }, 'K'), // 10
          i('call', { imm: BPF_FUNC.ringbuf_reserve }), // 11
          i('jeq', { dst: 0, imm: 0, off: 6 }, 'K'), // 12
          i('mov', { dst: 6, src: 0 }, 'X'), // 13
          i('call_local', { imm: -1 }), // 14: r0 = answer()
          i('stxdw', { dst: 6, src: 0, off: 0 }), // 15
          i('mov', { dst: 1, src: 6 }, 'X'), // 16
          i('mov', { dst: 2, imm: 0 }, 'K'), // 17
          i('call', { imm: BPF_FUNC.ringbuf_submit }), // 18
          i('mov', { dst: 0, imm: XDP_PASS }, 'K'), // 19
          i('exit'), // 20
        ],
        relocations: [
          { insn: 3, symbol: 'counts' },
          { insn: 8, symbol: 'events' },
          { insn: 14, symbol: 'answer' },
        ],
        lines: [
          { insn: 0, line: 10, col: 3, text: 'const key = 0;' },
          { insn: 4, line: 11, col: 15, text: 'const v = lookup(counts, key);' },
          { insn: 11, line: 13, col: 15, text: 'const e = events.reserve(8);' },
          { insn: 19, line: 17, col: 3, text: 'return XDP_PASS;' },
        ],
      },
    ],
    subprograms: [
      {
        name: 'answer',
        insns: [lddw(1, 0n), i('ldxw', { dst: 0, src: 1, off: 0 }), i('exit')],
        relocations: [{ insn: 0, symbol: 'limit' }],
        lines: [{ insn: 0, line: 3, col: 10, text: 'return LIMIT;' }],
        returns: 'long',
      },
    ],
    maps: [
      { name: 'counts', type: BPF_MAP_TYPE.ARRAY, keySize: 4, valueSize: 8, maxEntries: 4 },
      { name: 'events', type: BPF_MAP_TYPE.RINGBUF, maxEntries: 4096 },
      // Not used by the program: libbpf still creates it, which checks the flags' encoding.
      { name: 'seen', type: BPF_MAP_TYPE.HASH, keySize: 8, valueSize: 4, maxEntries: 64, flags: BPF_F_NO_PREALLOC },
    ],
    data: [{ name: '.rodata', bytes: rodata, vars: [{ name: 'limit', offset: 0, size: 4 }] }],
  };
};
