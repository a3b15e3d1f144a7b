/**
 * The LLVM pseudo-C syntax without clang: a table of instructions and the text llvm-objdump 14
 * prints for them (copied from llvm-objdump 14.0.6 output), the newer-LLVM spellings of the forms
 * LLVM 14 cannot print, assembler diagnostics, and the round trip over random valid instructions.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AsmError } from '../../../bpf/asm/errors.ts';
import { assembleLlvm, disassembleLlvm } from '../../../bpf/asm/llvm/index.ts';
import { decode, encode, type Insn, insnNamed, lddw, makeInsn, spec } from '../../../bpf/isa/index.ts';
import { arbProgram } from './llvm-arb.ts';

const i = insnNamed;
const K = 'K' as const;
const X = 'X' as const;

/** [instruction, llvm-objdump -d text, llvm-objdump -d --mattr=+alu32 text if different] */
const LLVM14: [Insn, string, string?][] = [
  [i('mov', { dst: 0, imm: -1 }, K), 'r0 = -1'],
  [i('mov32', { dst: 1, imm: -1 }, K), 'w1 = -1'],
  [i('mov', { dst: 1, src: 2 }, X), 'r1 = r2'],
  [i('mov32', { dst: 5, src: 3 }, X), 'w5 = w3'],
  [i('add', { dst: 2, imm: -4 }, K), 'r2 += -4'],
  [i('and32', { dst: 1, imm: -0x80000000 }, K), 'w1 &= -2147483648'],
  [i('arsh', { dst: 3, imm: 32 }, K), 'r3 s>>= 32'],
  [i('arsh32', { dst: 2, imm: 16 }, K), 'w2 s>>= 16'],
  [i('sub', { dst: 3, src: 2 }, X), 'r3 -= r2'],
  [i('mul32', { dst: 0, imm: 3 }, K), 'w0 *= 3'],
  [i('div', { dst: 1, src: 2 }, X), 'r1 /= r2'],
  [i('lsh', { dst: 4, imm: 32 }, K), 'r4 <<= 32'],
  [i('neg', { dst: 3 }), 'r3 = -r3'],
  [i('neg32', { dst: 1 }), 'w1 = -w1'],
  [i('be16', { dst: 1 }), 'r1 = be16 r1'],
  [i('be64', { dst: 0 }), 'r0 = be64 r0'],
  [i('le32', { dst: 1 }), 'r1 = le32 r1'],
  [lddw(2, 0n), 'r2 = 0 ll'],
  [lddw(1, -1n), 'r1 = -1 ll'],
  [lddw(1, 1n << 32n), 'r1 = 4294967296 ll'],
  [lddw(1, 0x80000000n), 'r1 = 2147483648 ll'],
  [lddw(1, 1n << 63n), 'r1 = -9223372036854775808 ll'],
  [lddw(1, 5n, 1), 'ld_pseudo\tr1, 1, 5'],
  [makeInsn(spec('lddw_map_value'), { dst: 1, src: 2, imm: -5, imm2: 7 }), 'ld_pseudo\tr1, 2, 4294967291'],
  [i('ldabsb', { imm: 4 }), 'r0 = *(u8 *)skb[4]'],
  [i('ldabsh', { imm: -4 }), 'r0 = *(u16 *)skb[-4]'],
  [i('ldindw', { src: 1 }), 'r0 = *(u32 *)skb[r1]'],
  [i('ldindb', { src: 1, imm: 8 }), 'r0 = *(u8 *)skb[r1]'],
  [i('ldxw', { dst: 0, src: 1, off: 4 }), 'r0 = *(u32 *)(r1 + 4)', 'w0 = *(u32 *)(r1 + 4)'],
  [i('ldxb', { dst: 10, src: 10 }), 'r10 = *(u8 *)(r10 + 0)', 'w10 = *(u8 *)(r10 + 0)'],
  [i('ldxdw', { dst: 1, src: 2, off: -32768 }), 'r1 = *(u64 *)(r2 - 32768)'],
  [i('stxw', { dst: 1, src: 2, off: 32767 }), '*(u32 *)(r1 + 32767) = r2', '*(u32 *)(r1 + 32767) = w2'],
  [i('stxdw', { dst: 10, src: 1, off: -8 }), '*(u64 *)(r10 - 8) = r1'],
  [i('lock_add', { dst: 1, src: 3, off: 8 }), 'lock *(u64 *)(r1 + 8) += r3'],
  [i('lock_add32', { dst: 1, src: 4 }), 'lock *(u32 *)(r1 + 0) += r4', 'lock *(u32 *)(r1 + 0) += w4'],
  [i('lock_and', { dst: 2, src: 1 }), 'lock *(u64 *)(r2 + 0) &= r1'],
  [i('lock_fetch_add', { dst: 1, src: 2 }), 'r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)'],
  [i('lock_fetch_xor', { dst: 2, src: 6 }), 'r6 = atomic_fetch_xor((u64 *)(r2 + 0), r6)'],
  [i('lock_xchg', { dst: 1, src: 2 }), 'r2 = xchg_64(r1 + 0, r2)'],
  [i('lock_cmpxchg', { dst: 2, src: 4 }), 'r0 = cmpxchg_64(r2 + 0, r0, r4)'],
  [i('jsgt', { dst: 3, off: 5 }, K), 'if r3 s> 0 goto +5'],
  [i('jne', { dst: 4, imm: 1, off: 5 }, K), 'if r4 != 1 goto +5'],
  [i('jsgt', { dst: 0, imm: -6, off: 7 }, K), 'if r0 s> -6 goto +7'],
  [i('jeq32', { dst: 1, imm: -1, off: 1 }, K), 'if w1 == -1 goto +1'],
  [i('jeq32', { dst: 1, src: 2, off: 1 }, X), 'if w1 == w2 goto +1'],
  [i('jeq32', { dst: 1, off: -32768 }, K), 'if w1 == 0 goto -32768'],
  [i('ja', { off: -1 }), 'goto -1'],
  [i('ja', { off: 0 }), 'goto +0'],
  [i('call', { imm: 5 }), 'call 5'],
  [i('call_local', { imm: -1 }), 'call -1'],
  [i('call_local', { imm: 2 }), 'call 2'],
  [i('exit'), 'exit'],
];

/** Forms LLVM 14 prints as <unknown> or decodes wrongly: the spelling of newer LLVM (BPFInstrInfo.td). */
const NEWER: [Insn, string][] = [
  [i('lock_fetch_add32', { dst: 1, src: 5 }), 'w5 = atomic_fetch_add((u32 *)(r1 + 0), w5)'],
  [i('lock_or32', { dst: 1, src: 4 }), 'lock *(u32 *)(r1 + 0) |= w4'],
  [i('lock_xchg32', { dst: 1, src: 7 }), 'w7 = xchg32_32(r1 + 0, w7)'],
  [i('lock_cmpxchg32', { dst: 1, src: 8 }), 'w0 = cmpxchg32_32(r1 + 0, w0, w8)'],
  [i('stw', { dst: 10, off: -8, imm: 7 }), '*(u32 *)(r10 - 8) = 7'],
  [i('stdw', { dst: 10, off: 4, imm: -7 }), '*(u64 *)(r10 + 4) = -7'],
  [i('jset', { dst: 1, src: 2, off: 3 }, X), 'if r1 & r2 goto +3'],
  [i('jset32', { dst: 1, imm: -1, off: 3 }, K), 'if w1 & -1 goto +3'],
  [i('mod', { dst: 9, src: 6 }, X), 'r9 %= r6'],
  [i('mod32', { dst: 1, imm: 3 }, K), 'w1 %= 3'],
  [i('sdiv', { dst: 1, src: 2 }, X), 'r1 s/= r2'],
  [i('sdiv32', { dst: 1, imm: 3 }, K), 'w1 s/= 3'],
  [i('smod', { dst: 1, imm: -3 }, K), 'r1 s%= -3'],
  [i('movsx864', { dst: 1, src: 2 }), 'r1 = (s8)r2'],
  [i('movsx3264', { dst: 1, src: 2 }), 'r1 = (s32)r2'],
  [i('movsx1632', { dst: 1, src: 2 }), 'w1 = (s16)w2'],
  [i('ldxsb', { dst: 0, src: 1 }), 'r0 = *(s8 *)(r1 + 0)'],
  [i('ldxsw', { dst: 0, src: 1, off: -4 }), 'r0 = *(s32 *)(r1 - 4)'],
  [i('bswap16', { dst: 1 }), 'r1 = bswap16 r1'],
  [i('bswap64', { dst: 3 }), 'r3 = bswap64 r3'],
  [i('ja32', { imm: 100000 }), 'gotol +100000'],
  [i('ja32', { imm: -2 }), 'gotol -2'],
  [i('callx', { dst: 2 }), 'callx r2'],
];

describe('LLVM disassembler', () => {
  it('prints each form as llvm-objdump 14 does (default and +alu32)', () => {
    const insns = LLVM14.map((r) => r[0]);
    expect(disassembleLlvm(insns)).toEqual(LLVM14.map((r) => r[1]));
    expect(disassembleLlvm(insns, { alu32: true })).toEqual(LLVM14.map((r) => r[2] ?? r[1]));
  });

  it('prints v4, BPF_ST, JSET and 32-bit atomics as newer LLVM does', () => {
    expect(
      disassembleLlvm(
        NEWER.map((r) => r[0]),
        { alu32: true },
      ),
    ).toEqual(NEWER.map((r) => r[1]));
  });

  it('annotates jump targets with the section symbols as llvm-objdump does', () => {
    const prog = [i('mov', { imm: 0 }, K), i('ja', { off: -2 }), i('ja', { off: -1 }), i('ja', { off: -3 })];
    prog.push(i('ja', { off: 32767 }), i('jgt', { dst: 0, imm: 1, off: 0 }, K), i('exit'));
    // Measured: two labels at 8 (`zz`, `b1`): the last by name wins; negative targets wrap around.
    const context = {
      section: 'xdp',
      symbols: [
        { name: 'a', offset: 0 },
        { name: 'zz', offset: 8 },
        { name: 'b1', offset: 8 },
      ],
    };
    expect(disassembleLlvm(prog, { context })).toEqual([
      'r0 = 0',
      'goto -2 <a>',
      'goto -1 <zz+0x8>',
      'goto -3 <zz>',
      'goto +32767 <zz+0x40018>',
      'if r0 > 1 goto +0 <zz+0x28>',
      'exit',
    ]);
    // No symbol at 0: the section name stands in; before it, the target wraps past the last symbol.
    const bare = { section: 'xdp', symbols: [{ name: 'b', offset: 16 }] };
    expect(
      disassembleLlvm([i('ja', { off: -2 }), i('mov', { imm: 0 }, K), i('ja', { off: -3 })], { context: bare }),
    ).toEqual(['goto -2 <b+0xffffffffffffffe8>', 'r0 = 0', 'goto -3 <xdp>']);
  });

  it('spells the ambiguous forms distinctly when lossless', () => {
    const prog = [
      i('call_local', { imm: 2 }),
      i('call_local', { imm: -7 }),
      makeInsn(spec('call_kfunc'), { imm: 33, off: 2 }),
      i('call', { imm: 5 }),
      makeInsn(spec('lddw_map_value'), { dst: 1, src: 2, imm: -5, imm2: 7 }),
      i('ldindh', { src: 3, imm: -8 }),
    ];
    const text = disassembleLlvm(prog, { lossless: true });
    expect(text).toEqual([
      'call pc+2',
      'call pc-7',
      'call kfunc 33, 2',
      'call 5',
      'ld_pseudo\tr1, 2, 4294967291, 7',
      'r0 = *(u16 *)skb[r3 - 8]',
    ]);
    expect(assembleLlvm(text.join('\n')).insns).toEqual(prog);
  });
});

describe('LLVM assembler', () => {
  it('reads back every table row', () => {
    for (const rows of [LLVM14.filter((r) => !r[1].includes('skb[r1]') && !r[1].startsWith('ld_pseudo')), NEWER]) {
      const insns = rows.map((r) => r[0]).filter((x) => x.spec.op !== 'local');
      for (const alu32 of [false, true]) {
        const text = disassembleLlvm(insns, { alu32 }).join('\n');
        expect(assembleLlvm(text).insns).toEqual(insns);
      }
    }
  });

  it('reads llvm-objdump -dr output: headers, symbol lines, address and bytes columns, relocations', () => {
    const text = [
      '',
      'k.o:\tfile format elf64-bpf',
      '',
      'Disassembly of section xdp:',
      '',
      '0000000000000000 <prog>:',
      '       0:\tb7 01 00 00 00 00 00 00\tr1 = 0',
      '       1:\t18 02 00 00 00 00 00 00 00 00 00 00 00 00 00 00\tr2 = 0 ll',
      '\t\t0000000000000008:  R_BPF_64_64\tcounts',
      '       3:\t85 10 00 00 ff ff ff ff\tcall -1',
      '\t\t0000000000000018:  R_BPF_64_32\tsub',
      '       4:\t55 01 01 00 01 00 00 00\tif r1 != 1 goto +1 <LBB0_2>',
      '       5:\texit',
      '',
      '0000000000000030 <LBB0_2>:',
      '       6:\t95 00 00 00 00 00 00 00\texit',
    ].join('\n');
    const p = assembleLlvm(text);
    expect(p.insns.map((x) => x.spec.name)).toEqual(['mov', 'lddw', 'call_local', 'jne', 'exit', 'exit']);
    expect(p.insns[2]).toMatchObject({ src: 1, imm: -1 });
    expect(p.refs).toEqual([
      { insn: 1, symbol: 'counts', kind: 'lddw' },
      { insn: 2, symbol: 'sub', kind: 'call' },
    ]);
    expect(p.labels).toEqual(
      new Map([
        ['prog', 0],
        ['LBB0_2', 6],
      ]),
    );
    expect(p.lines).toEqual([7, 8, 10, 12, 13, 16]);
  });

  it('resolves labels, calls and symbol addresses; keeps comments out', () => {
    const p = assembleLlvm(
      [
        'entry:            // program start',
        '  r1 = counts ll  ; a map',
        '  call helper_fn  # an extern function',
        '  if w0 s< -1 goto out',
        '  call sub',
        '  goto entry',
        'out: exit',
        'sub:',
        '  w0 = 1',
        '  gotol out',
        '  exit',
      ].join('\n'),
    );
    // lddw takes two slots: labels and distances count slots.
    expect(p.labels).toEqual(
      new Map([
        ['entry', 0],
        ['out', 6],
        ['sub', 7],
      ]),
    );
    expect(p.refs).toEqual([
      { insn: 0, symbol: 'counts', kind: 'lddw' },
      { insn: 1, symbol: 'helper_fn', kind: 'call' },
    ]);
    expect(p.insns[1]).toMatchObject({ src: 1, imm: -1 });
    expect(p.insns[2]).toMatchObject({ off: 2 });
    expect(p.insns[3]).toMatchObject({ src: 1, imm: 2 });
    expect(p.insns[4]).toMatchObject({ off: -6 });
    expect(p.insns[7]).toMatchObject({ imm: -3 });
  });

  it('reports every problem with line:col', () => {
    const text = [
      'r0 = 1', // fine
      'r11 = 1', // 2:1 unknown instruction
      'w1 += r2', // 3:7 width mismatch
      'r1 = 4294967295', // 4:6 does not fit
      'goto nowhere', // 5:6 undefined label
      '*(u32 *)(r1 + 70000) = r2', // 6:14
      'if r1 ?? r2 goto +1', // 7:7 bad char
      'x: x: exit', // 8:4 duplicate label
      'r1 = *(u128 *)(r2 + 0)', // 9:9
      'lock *(u16 *)(r1 + 0) += r2', // 10
    ].join('\n');
    let err: unknown;
    try {
      assembleLlvm(text, { file: 'bad.s' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AsmError);
    const d = (err as AsmError).diagnostics;
    expect(d.map((x) => `${x.line}:${x.col}`)).toEqual([
      '2:1',
      '3:7',
      '4:6',
      '5:6',
      '6:13',
      '7:7',
      '7:8',
      '8:4',
      '9:8',
      '10:8',
    ]);
    expect(d[0]?.message).toBe("unknown instruction 'r11'");
    expect(d[1]?.message).toBe('expected a 32-bit wN register');
    expect(d[2]?.message).toBe("4294967295 does not fit a sign-extended 32-bit immediate (use 'll')");
    expect(d[3]?.message).toBe("undefined label 'nowhere'");
    expect(d[4]?.message).toBe('70000 does not fit a signed 16-bit offset');
    expect(d[7]?.message).toBe("label 'x' is defined twice");
    expect(d[8]?.message).toBe('expected u8, u16, u32, u64, s8, s16 or s32');
    expect(d[9]?.message).toBe('atomic operations take u32 or u64');
    expect((err as AsmError).message.split('\n')[0]).toBe("bad.s:2:1: unknown instruction 'r11'");
  });
});

describe('round trip', () => {
  it('assembleLlvm(disassembleLlvm(p, lossless)) encodes to the same bytes, for random valid programs', () => {
    fc.assert(
      fc.property(arbProgram(), fc.boolean(), (prog, alu32) => {
        const text = disassembleLlvm(prog, { lossless: true, alu32 }).join('\n');
        const back = assembleLlvm(text).insns;
        expect(encode(back)).toEqual(encode(prog));
        expect(decode(encode(prog))).toEqual(prog);
      }),
      { numRuns: 2000 },
    );
  });
});
