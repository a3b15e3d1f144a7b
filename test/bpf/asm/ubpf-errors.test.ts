import { describe, expect, it } from 'vitest';
import { AsmError } from '../../../bpf/asm/errors.ts';
import { assembleUbpf } from '../../../bpf/asm/ubpf/index.ts';

/** The diagnostics of a text that must not assemble, as `line:col: message`. */
const diagnose = (source: string): string[] => {
  try {
    assembleUbpf(source);
  } catch (e) {
    if (e instanceof AsmError) return e.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`);
    throw e;
  }
  throw new Error(`assembled without error: ${source}`);
};

/** One bad line each (the reference assembler's wording), with where it points. */
const CASES: readonly (readonly [string, string])[] = [
  ['ldxq %r0, %r1', '1:1: Invalid mnemonic: ldxq'],
  ['call_local +1', '1:1: Invalid mnemonic: call_local'],
  ['lock_add [%r1], %r2', '1:1: Invalid mnemonic: lock_add'],
  ['lddw %r0', '1:1: Invalid number of operands for mnemonic: lddw'],
  ['exit 0', '1:1: Invalid number of operands for mnemonic: exit'],
  ['neg %r1, 2', '1:1: Invalid number of operands for mnemonic: neg'],
  ['jeq %r1, 0', '1:1: Invalid number of operands for mnemonic: jeq'],
  ['call', '1:1: Invalid number of operands for mnemonic: call'],
  ['call local +1, 2', '1:1: Invalid number of operands for mnemonic: call'],
  ['or %r0, %r50', '1:9: Invalid register: %r50'],
  ['mov %r11, 0', '1:5: Invalid register: %r11'],
  ['mov r1, 0', '1:5: Invalid register: r1'],
  ['movsx864 %r0, 5', '1:15: Invalid register: 5'],
  ['ldxb %r0, %r1', '1:11: Failed to decode register and offset: %r1'],
  ['stxb [%r1+1, %r2', '1:6: Failed to decode register and offset: [%r1+1'],
  ['ldxb %r0, [%r1+0x10000]', '1:15: Offset out of 16-bit range: +0x10000'],
  ['ldxb %r0, [%r1+32768]', '1:15: Offset out of 16-bit range: +32768'],
  ['stdw [%r10-0x8], 0', '1:11: Offset out of 16-bit range: -0x8'],
  ['ldxb %r0, [%r1+x]', '1:15: Invalid offset: +x'],
  ['ja +32768', '1:4: Offset out of 16-bit range: +32768'],
  ['ja32 +2147483648', '1:6: Offset out of 32-bit range: +2147483648'],
  ['mov32 %r0, 2147483648', '1:12: Immediate out of 32-bit range: 2147483648'],
  ['mov32 %r0, -2147483649', '1:12: Immediate out of 32-bit range: -2147483649'],
  ['mov32 %r0, 0x100000000', '1:12: Immediate out of 32-bit range: 0x100000000'],
  ['mov %r0, -0x1', '1:10: Immediate out of 32-bit range: -0x1'],
  ['mov %r0, 12abc', '1:10: Invalid immediate: 12abc'],
  ['lddw %r0, 0x10000000000000000', '1:11: Immediate out of 64-bit range: 0x10000000000000000'],
  ['lddw %r0, -9223372036854775809', '1:11: Immediate out of 64-bit range: -9223372036854775809'],
  ['lddw %r0, 18446744073709551616', '1:11: Immediate out of 64-bit range: 18446744073709551616'],
  ['ja NOT_A_LABEL\nexit', '1:4: Invalid label: NOT_A_LABEL'],
  ['call local nowhere', '1:12: Invalid label: nowhere'],
  ['lock', '1:1: Invalid number of operands for lock'],
  ['lock or [%r10-8]', '1:1: Invalid number of operands for lock'],
  ['lock fetch', '1:1: Invalid number of operands for lock'],
  ['lock add [%r1], %r2, %r3', '1:1: Invalid number of operands for lock'],
  ['lock nand [%r1], %r2', '1:6: Invalid mnemonic: lock nand'],
  ['lock add64 [%r1], %r2', '1:6: Invalid mnemonic: lock add64'],
  ['lock fetch foo [%r1], %r2', '1:12: Invalid mnemonic: lock fetch foo'],
  ['call far 1', '1:6: Invalid call mode: far'],
  ['call x', '1:6: Invalid immediate: x'],
  ['a:\na:\nexit', '2:1: Duplicate label (a) detected (previous declaration at line 1)'],
  ['+x:\nexit', '1:1: Invalid label name: +x:'],
];

describe('assembleUbpf: errors', () => {
  it.each(CASES)('%j → %s', (source, expected) => {
    expect(diagnose(source)).toEqual([expected]);
  });

  it('reports every problem of the text at once, in order, with the file name', () => {
    const source = ['mov %r0, %r99', 'bogus', 'exit', 'ja missing', 'stxw [%r1+0x10000], %r77'].join('\n');
    expect(diagnose(source)).toEqual([
      '1:10: Invalid register: %r99',
      '2:1: Invalid mnemonic: bogus',
      '4:4: Invalid label: missing',
      '5:10: Offset out of 16-bit range: +0x10000',
      '5:21: Invalid register: %r77',
    ]);
    expect(() => assembleUbpf(source, { file: 'prog.s' })).toThrow(
      /^prog\.s:1:10: Invalid register: %r99\nprog\.s:2:1:/,
    );
  });

  it('is an AsmError carrying the diagnostics', () => {
    let caught: unknown;
    try {
      assembleUbpf('exit\nfoo', { file: 'x.s' });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(AsmError);
    expect((caught as AsmError).file).toBe('x.s');
    expect((caught as AsmError).diagnostics).toEqual([{ line: 2, col: 1, message: 'Invalid mnemonic: foo' }]);
  });

  it('assembles an empty or comment-only text to no instructions', () => {
    expect(assembleUbpf('').insns).toEqual([]);
    expect(assembleUbpf('# nothing\n\n   \n').insns).toEqual([]);
  });
});
