import { describe, expect, it } from 'vitest';
import { DataFileError, parseDataFile } from './data-file.ts';

const hex = (b: Uint8Array | undefined): string | undefined =>
  b === undefined ? undefined : Buffer.from(b).toString('hex');

describe('parseDataFile', () => {
  it('reads asm, mem and result, keeping asm line-aligned with the file', () => {
    const d = parseDataFile(
      ['# Copyright', '-- asm', 'mov %r0, 1 # one', '', 'exit', '-- mem', '00 01 0x02', 'ff', '-- result', '0x1'].join(
        '\n',
      ),
    );
    expect(d.skip).toBeUndefined();
    expect(d.asm?.line).toBe(2);
    expect(d.asm?.text.split('\n')).toEqual(['', '', 'mov %r0, 1 ', '', 'exit', '', '', '', '', '']);
    expect(hex(d.mem)).toBe('000102ff');
    expect(d.result).toBe(1n);
    expect(d.error).toBeUndefined();
    expect(d.raw).toBeUndefined();
  });

  it('keeps the last line of result and error; reads decimal and wraps a negative result', () => {
    expect(parseDataFile('-- result\n0x5\n7\n').result).toBe(7n);
    expect(parseDataFile('-- result\n-1\n').result).toBe(0xffffffffffffffffn);
    expect(parseDataFile('-- result\n0xFFFFFFFFFFFFFFFF\n').result).toBe(0xffffffffffffffffn);
    const d = parseDataFile('-- asm\nexit\n-- error\nfirst\nFailed to load code: x\n');
    expect(d.error).toBe('Failed to load code: x');
    expect(d.result).toBeUndefined();
    expect(d.skip).toBeUndefined();
  });

  it('strips carriage returns and ignores -- c prose and -- no register offset', () => {
    const d = parseDataFile(
      '-- asm\r\nexit\r\n-- c\r\nint main() { return 0; }\r\n-- no register offset\r\n-- result\r\n0\r\n',
    );
    expect(d.asm?.text.split('\n')[1]).toBe('exit');
    expect(d.asm?.text).not.toContain('main');
    expect(d.result).toBe(0n);
  });

  it('reads -- raw as 64-bit little-endian words (hex or decimal)', () => {
    const d = parseDataFile('-- raw\n0x5566778800000018\n0x1122334400000000\n149\n-- result\n0x0\n');
    expect(d.raw?.format).toBe('words');
    expect(hex(d.raw?.bytes)).toBe('18000000887766550000000044332211' + '9500000000000000');
  });

  it('reads -- raw written as 8 hex bytes per line (negative/unused-*)', () => {
    const d = parseDataFile('-- raw\n07 00 01 00 01 00 00 00\n95 00 00 00 00 00 00 00\n-- error\n');
    expect(d.raw?.format).toBe('bytes');
    expect(hex(d.raw?.bytes)).toBe('07000100010000009500000000000000');
    expect(d.error).toBe('');
    expect(d.skip).toBe('no result or error');
  });

  it('skips a file with an unknown directive, or with neither result nor error', () => {
    expect(parseDataFile('-- asm\n-- Unknown directive\n-- error\nx\n').skip).toBe(
      "unknown directive '-- Unknown directive' at line 2",
    );
    expect(parseDataFile('# just a comment\n').skip).toBe('no result or error');
    expect(parseDataFile('-- asm\nexit\n').skip).toBe('no result or error');
  });

  it('throws DataFileError with the line of a malformed number', () => {
    expect(() => parseDataFile('-- result\n0xZZ\n')).toThrow(DataFileError);
    expect(() => parseDataFile('-- result\n\n12abc\n')).toThrow('line 3: result is not a 64-bit number: 12abc');
    expect(() => parseDataFile('-- mem\n00 1ff\n-- result\n0\n')).toThrow(
      'line 2: memory byte is not 1-2 hex digits: 1ff',
    );
    expect(() => parseDataFile('-- raw\n0x95\nzz\n-- result\n0\n')).toThrow('line 3: raw instruction');
  });
});
