import { describe, expect, it } from 'vitest';
import { assembleUbpf } from '../../../bpf/asm/ubpf/index.ts';
import { encode } from '../../../bpf/isa/index.ts';

const hex = (bytes: Uint8Array): string =>
  Buffer.from(bytes)
    .toString('hex')
    .replace(/(.{2})(?!$)/g, '$1 ');
const bytesOf = (source: string): string => hex(encode(assembleUbpf(source).insns));

/** Source line → the 8 (or 16) wire bytes, written out by hand from RFC 9669's encoding. */
const TABLE: readonly (readonly [string, string])[] = [
  // ALU64 (unsuffixed) and ALU (32 suffix), K and X forms
  ['mov %r0, 1', 'b7 00 00 00 01 00 00 00'],
  ['mov32 %r1, %r2', 'bc 21 00 00 00 00 00 00'],
  ['add %r1, -1', '07 01 00 00 ff ff ff ff'],
  ['add32 %r1, 0xffffffff', '04 01 00 00 ff ff ff ff'],
  ['sub %r3, %r4', '1f 43 00 00 00 00 00 00'],
  ['sub32 %r3, 2', '14 03 00 00 02 00 00 00'],
  ['mul32 %r0, 7', '24 00 00 00 07 00 00 00'],
  ['mul %r0, %r9', '2f 90 00 00 00 00 00 00'],
  ['div %r0, %r1', '3f 10 00 00 00 00 00 00'],
  ['div32 %r0, 3', '34 00 00 00 03 00 00 00'],
  ['sdiv %r0, %r1', '3f 10 01 00 00 00 00 00'],
  ['sdiv32 %r0, -3', '34 00 01 00 fd ff ff ff'],
  ['mod %r0, 5', '97 00 00 00 05 00 00 00'],
  ['mod32 %r0, %r1', '9c 10 00 00 00 00 00 00'],
  ['smod %r0, 5', '97 00 01 00 05 00 00 00'],
  ['smod32 %r0, %r1', '9c 10 01 00 00 00 00 00'],
  ['or %r0, 0x10', '47 00 00 00 10 00 00 00'],
  ['or32 %r0, %r10', '4c a0 00 00 00 00 00 00'],
  ['and %r0, 0xff', '57 00 00 00 ff 00 00 00'],
  ['and32 %r0, %r1', '5c 10 00 00 00 00 00 00'],
  ['lsh %r0, 63', '67 00 00 00 3f 00 00 00'],
  ['lsh32 %r0, %r1', '6c 10 00 00 00 00 00 00'],
  ['rsh %r0, %r1', '7f 10 00 00 00 00 00 00'],
  ['rsh32 %r0, 4', '74 00 00 00 04 00 00 00'],
  ['arsh %r0, 2', 'c7 00 00 00 02 00 00 00'],
  ['arsh32 %r0, %r1', 'cc 10 00 00 00 00 00 00'],
  ['xor %r0, %r1', 'af 10 00 00 00 00 00 00'],
  ['xor32 %r0, 0x80000000', 'a4 00 00 00 00 00 00 80'],
  ['neg %r2', '87 02 00 00 00 00 00 00'],
  ['neg32 %r2', '84 02 00 00 00 00 00 00'],
  ['movsx864 %r0, %r1', 'bf 10 08 00 00 00 00 00'],
  ['movsx1664 %r0, %r1', 'bf 10 10 00 00 00 00 00'],
  ['movsx3264 %r0, %r1', 'bf 10 20 00 00 00 00 00'],
  ['movsx832 %r0, %r1', 'bc 10 08 00 00 00 00 00'],
  ['movsx1632 %r0, %r1', 'bc 10 10 00 00 00 00 00'],
  // byte order
  ['le16 %r3', 'd4 03 00 00 10 00 00 00'],
  ['le32 %r3', 'd4 03 00 00 20 00 00 00'],
  ['le64 %r3', 'd4 03 00 00 40 00 00 00'],
  ['be16 %r3', 'dc 03 00 00 10 00 00 00'],
  ['be32 %r3', 'dc 03 00 00 20 00 00 00'],
  ['be64 %r3', 'dc 03 00 00 40 00 00 00'],
  ['bswap16 %r1', 'd7 01 00 00 10 00 00 00'],
  ['bswap32 %r1', 'd7 01 00 00 20 00 00 00'],
  ['swap64 %r1', 'd7 01 00 00 40 00 00 00'],
  // 64-bit immediates
  ['lddw %r0, 0x1122334455667788', '18 00 00 00 88 77 66 55 00 00 00 00 44 33 22 11'],
  ['lddw %r1, -1', '18 01 00 00 ff ff ff ff 00 00 00 00 ff ff ff ff'],
  ['lddw %r2, 18446744073709551615', '18 02 00 00 ff ff ff ff 00 00 00 00 ff ff ff ff'],
  ['lddw %r2, -0x1', '18 02 00 00 ff ff ff ff 00 00 00 00 ff ff ff ff'],
  ['lddw_map_fd %r1, 3', '18 11 00 00 03 00 00 00 00 00 00 00 00 00 00 00'],
  ['lddw_map_value %r1, 3, 16', '18 21 00 00 03 00 00 00 00 00 00 00 10 00 00 00'],
  ['lddw_func %r4, 7', '18 44 00 00 07 00 00 00 00 00 00 00 00 00 00 00'],
  // loads and stores
  ['ldxb %r0, [%r1+2]', '71 10 02 00 00 00 00 00'],
  ['ldxh %r0, [%r1]', '69 10 00 00 00 00 00 00'],
  ['ldxw %r0, [%r10-4]', '61 a0 fc ff 00 00 00 00'],
  ['ldxdw %r0, [%r1+0x2]', '79 10 02 00 00 00 00 00'],
  ['ldxdw %r0, [%r1+0xffff]', '79 10 ff ff 00 00 00 00'],
  ['ldxsb %r0, [%r1]', '91 10 00 00 00 00 00 00'],
  ['ldxsh %r0, [%r1+6]', '89 10 06 00 00 00 00 00'],
  ['ldxsw %r0, [%r1-32768]', '81 10 00 80 00 00 00 00'],
  ['stb [%r10-1], 5', '72 0a ff ff 05 00 00 00'],
  ['sth [%r1+2], 0x1234', '6a 01 02 00 34 12 00 00'],
  ['stw [%r1], -2', '62 01 00 00 fe ff ff ff'],
  ['stdw [%r10-8], -1', '7a 0a f8 ff ff ff ff ff'],
  ['stxb [%r10-1], %r1', '73 1a ff ff 00 00 00 00'],
  ['stxh [%r0+4], %r2', '6b 20 04 00 00 00 00 00'],
  ['stxw [%r0], %r3', '63 30 00 00 00 00 00 00'],
  ['stxdw [%r10-8], %r0', '7b 0a f8 ff 00 00 00 00'],
  ['ldabsw 0xe', '20 00 00 00 0e 00 00 00'],
  ['ldabsb 3', '30 00 00 00 03 00 00 00'],
  ['ldindh %r1, 2', '48 10 00 00 02 00 00 00'],
  // atomics
  ['lock add [%r10-8], %r1', 'db 1a f8 ff 00 00 00 00'],
  ['lock add32 [%r10-4], %r1', 'c3 1a fc ff 00 00 00 00'],
  ['lock fetch add32 [%r10-4], %r1', 'c3 1a fc ff 01 00 00 00'],
  ['lock or [%r1], %r2', 'db 21 00 00 40 00 00 00'],
  ['lock fetch or32 [%r1], %r2', 'c3 21 00 00 41 00 00 00'],
  ['lock and [%r1], %r2', 'db 21 00 00 50 00 00 00'],
  ['lock fetch and [%r1], %r2', 'db 21 00 00 51 00 00 00'],
  ['lock xor32 [%r1], %r2', 'c3 21 00 00 a0 00 00 00'],
  ['lock fetch xor [%r1], %r2', 'db 21 00 00 a1 00 00 00'],
  ['lock xchg [%r10-8], %r1', 'db 1a f8 ff e1 00 00 00'],
  ['lock fetch xchg32 [%r10-4], %r1', 'c3 1a fc ff e1 00 00 00'],
  ['lock cmpxchg32 [%r10-4], %r1', 'c3 1a fc ff f1 00 00 00'],
  ['lock cmpxchg [%r10-8], %r1', 'db 1a f8 ff f1 00 00 00'],
  // jumps and calls
  ['jeq %r1, 5, +2', '15 01 02 00 05 00 00 00'],
  ['jne %r1, %r2, -1', '5d 21 ff ff 00 00 00 00'],
  ['jgt %r1, %r2, +0', '2d 21 00 00 00 00 00 00'],
  ['jge32 %r1, 1, +1', '36 01 01 00 01 00 00 00'],
  ['jset %r1, 0x80000000, +3', '45 01 03 00 00 00 00 80'],
  ['jsgt32 %r1, -3, +1', '66 01 01 00 fd ff ff ff'],
  ['jsge %r1, %r2, +1', '7d 21 01 00 00 00 00 00'],
  ['jlt32 %r1, %r2, +0', 'ae 21 00 00 00 00 00 00'],
  ['jle %r1, 9, +1', 'b5 01 01 00 09 00 00 00'],
  ['jslt %r1, %r2, +1', 'cd 21 01 00 00 00 00 00'],
  ['jsle32 %r1, -1, +1', 'd6 01 01 00 ff ff ff ff'],
  ['jne32 %r1, %r2, +0x10', '5e 21 10 00 00 00 00 00'],
  ['ja +1', '05 00 01 00 00 00 00 00'],
  ['ja -2', '05 00 fe ff 00 00 00 00'],
  ['ja32 +1', '06 00 00 00 01 00 00 00'],
  ['ja32 -100000', '06 00 00 00 60 79 fe ff'],
  ['ja32 +0xffff', '06 00 00 00 ff ff ff ff'],
  ['call 5', '85 00 00 00 05 00 00 00'],
  ['call helper 5', '85 00 00 00 05 00 00 00'],
  ['call local +3', '85 10 00 00 03 00 00 00'],
  ['call runtime 7', '85 20 00 00 07 00 00 00'],
  ['call runtime 7, 2', '85 20 02 00 07 00 00 00'],
  ['call %r2', '8d 02 00 00 00 00 00 00'],
  ['call helper %r2', '8d 02 00 00 00 00 00 00'],
  ['exit', '95 00 00 00 00 00 00 00'],
];

describe('assembleUbpf: one line per mnemonic family', () => {
  it.each(TABLE)('%s', (source, bytes) => {
    expect(bytesOf(source)).toBe(bytes);
  });

  it('reads numbers as the reference does: hex is a bit pattern, decimal is signed', () => {
    const imm = (s: string) => assembleUbpf(`mov32 %r0, ${s}`).insns[0]?.imm;
    expect(imm('0xffffffff')).toBe(-1);
    expect(imm('0x80000000')).toBe(-0x80000000);
    expect(imm('-2147483648')).toBe(-0x80000000);
    expect(imm('2147483647')).toBe(0x7fffffff);
    expect(imm('+7')).toBe(7);
    expect(imm('0X1f')).toBe(31);
    expect(imm('010')).toBe(10);
  });

  it('accepts commas and spaces loosely, comments, CRLF and memory operands with spaces', () => {
    expect(bytesOf('mov %r0,%r1\r\n')).toBe('bf 10 00 00 00 00 00 00');
    expect(bytesOf('  ldxw %r0, [ %r10 - 4 ]   # comment')).toBe('61 a0 fc ff 00 00 00 00');
    expect(bytesOf('exit ; 95 00 00 00 00 00 00 00')).toBe('95 00 00 00 00 00 00 00');
  });

  it('records the source line of every instruction', () => {
    const p = assembleUbpf('# header\n\nmov %r0, 0\n\nlddw %r1, 5\nexit\n');
    expect(p.lines).toEqual([3, 5, 6]);
    expect(p.refs).toEqual([]);
  });
});

describe('assembleUbpf: labels and jump targets', () => {
  it('resolves forward and backward labels in slots (lddw counts two)', () => {
    const p = assembleUbpf(['top:', 'lddw %r0, 1', 'jeq %r0, 1, done', 'ja top', 'done:', 'exit'].join('\n'));
    expect(p.insns.map((i) => i.off)).toEqual([0, 1, -4, 0]);
    expect(p.labels.get('top')).toBe(0);
    expect(p.labels.get('done')).toBe(4);
  });

  it('lets the first exit define the label exit', () => {
    const p = assembleUbpf(['jne %r0, %r1, exit', 'mov %r0, 1', 'exit', 'mov %r0, 2', 'exit'].join('\n'));
    expect(p.insns[0]?.off).toBe(1);
    expect(p.labels.get('exit')).toBe(2);
  });

  it('prefers an explicit exit: label over the implicit one', () => {
    const p = assembleUbpf(['ja exit', 'exit', 'exit:', 'mov %r0, 0', 'exit'].join('\n'));
    expect(p.insns[0]?.off).toBe(1);
  });

  it('puts ja32 and call local distances in imm', () => {
    const p = assembleUbpf(['call local fn', 'ja32 end', 'fn: mov %r0, 1', 'exit', 'end:', 'exit'].join('\n'));
    expect(p.insns[0]?.imm).toBe(1);
    expect(p.insns[0]?.src).toBe(1);
    expect(p.insns[1]?.imm).toBe(2);
    expect(p.insns[2]?.spec.name).toBe('mov');
  });

  it('accepts 16-bit label distances and no more', () => {
    const body = Array.from({ length: 0x7fff }, () => 'mov %r0, 0');
    expect(assembleUbpf(['ja far', ...body, 'far:', 'exit'].join('\n')).insns[0]?.off).toBe(0x7fff);
    expect(() => assembleUbpf(['ja far', ...body, 'mov %r0, 0', 'far:', 'exit'].join('\n'))).toThrow(
      /1:4: Jump offset out of 16-bit range: far \(32768\)/,
    );
  });
});
