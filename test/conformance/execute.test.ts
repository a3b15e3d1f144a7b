import { describe, expect, it } from 'vitest';
import { answerOf, judge, toRunnerHex } from './execute.ts';
import type { DataFile } from './data-file.ts';

const data = (result: bigint | undefined, error?: string): DataFile => ({
  asm: undefined,
  raw: undefined,
  mem: undefined,
  result,
  error,
  skip: undefined,
});

describe('the execution stage judges as the bpf_conformance runner', () => {
  it('writes base16 as the runner does', () => {
    expect(toRunnerHex(Uint8Array.of(0xff, 1))).toBe('ff  01  ');
  });

  it('reads a plugin exit: hex R0 on success, else stdout (or stderr) cut at \\r and trimmed', () => {
    expect(answerOf({ status: 0, stdout: 'ffffffffffffffff\n', stderr: '' })).toEqual({ r0: (1n << 64n) - 1n });
    expect(answerOf({ status: 0, stdout: '0x2a\n', stderr: '' })).toEqual({ r0: 42n });
    expect(answerOf({ status: 0, stdout: 'nope\n', stderr: '' })).toEqual({ error: "unparsable output 'nope'" });
    expect(answerOf({ status: 1, stdout: '', stderr: 'bad thing  \r\nmore\n' })).toEqual({ error: 'bad thing' });
    expect(answerOf({ status: 1, stdout: 'first\n', stderr: 'second\n' })).toEqual({ error: 'first' });
  });

  it('compares with -- result and -- error', () => {
    expect(judge(data(5n), { r0: 5n })).toBeUndefined();
    expect(judge(data(5n), { r0: 6n })).toBe('returned 0x6, expected 0x5');
    expect(judge(data(5n), { error: 'x' })).toBe('failed: x');
    expect(judge(data(undefined, 'Invalid'), { error: 'Invalid' })).toBeUndefined();
    expect(judge(data(undefined, 'Invalid'), { error: 'other' })).toBe("failed with 'other', expected 'Invalid'");
    expect(judge(data(undefined, 'Invalid'), { r0: 1n })).toBe("returned 0x1, expected error 'Invalid'");
  });
});
