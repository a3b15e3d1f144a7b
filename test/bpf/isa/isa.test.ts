import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decode,
  decodeSlots,
  encode,
  encodeSlots,
  IsaError,
  insnNamed,
  imm64Of,
  lddw,
  makeInsn,
  OPCODES,
  type RawSlot,
  slotIndex,
  specsForCode,
} from '../../../bpf/isa/index.ts';

/** A valid instance of every row, with registers and fields that exercise the nibbles. */
const sampleOf = (i: number) => {
  const spec = OPCODES[i];
  if (!spec) throw new Error('row');
  const f = { dst: (i % 10) + 0, src: (i * 7) % 10, off: 0, imm: 0, imm2: 0 };
  switch (spec.kind) {
    case 'alu':
      if (spec.source === 'K') Object.assign(f, { src: 0, imm: -12345 + i });
      else f.imm = 0;
      break;
    case 'neg':
    case 'end':
      Object.assign(f, { src: 0 });
      break;
    case 'lddw':
      Object.assign(f, { imm: 0x55667788, imm2: -0x11223344 });
      break;
    case 'ldabs':
      Object.assign(f, { dst: 0, src: 0, imm: 14 });
      break;
    case 'ldind':
      Object.assign(f, { dst: 0, imm: 2 });
      break;
    case 'ldx':
    case 'stx':
    case 'atomic':
      Object.assign(f, { off: -8 * ((i % 5) + 1) });
      break;
    case 'st':
      Object.assign(f, { src: 0, off: 16, imm: -1 });
      break;
    case 'jmp':
      if (spec.source === 'K') Object.assign(f, { src: 0, imm: 0x7fff0000, off: -3 });
      else f.off = 5;
      break;
    case 'ja':
      Object.assign(f, { dst: 0, src: 0, off: -1 });
      break;
    case 'ja32':
      Object.assign(f, { dst: 0, src: 0, imm: 100000 });
      break;
    case 'call':
      Object.assign(f, { dst: 0, imm: 12 });
      break;
    case 'callx':
      Object.assign(f, { src: 0 });
      break;
    case 'exit':
      Object.assign(f, { dst: 0, src: 0 });
      break;
    default:
      break;
  }
  return makeInsn(spec, f);
};

describe('opcode table', () => {
  it('has one row per (opcode, discriminator) and rows with a shared opcode all discriminate', () => {
    const keys = new Set(OPCODES.map((s) => `${s.code}/${s.match?.field}=${s.match?.value}`));
    expect(keys.size).toBe(OPCODES.length);
    for (let code = 0; code < 256; code++) {
      const rows = specsForCode(code);
      if (rows.length > 1) for (const r of rows) expect(r.match, `opcode ${code.toString(16)}`).toBeDefined();
    }
  });

  it('covers RFC 9669 + v4 + callx: 126 opcode bytes and the overloaded forms', () => {
    const codes = new Set(OPCODES.map((s) => s.code));
    // 48 ALU + 2 neg + 3 end + lddw + 6 packet + 7 ldx + 4 st + 4 stx + 2 atomic + 44 jcc + ja, ja32, call, callx, exit.
    expect(codes.size).toBe(126);
    expect(OPCODES.filter((s) => s.kind === 'atomic')).toHaveLength(20);
    expect(OPCODES.filter((s) => s.kind === 'lddw')).toHaveLength(7);
    expect(
      OPCODES.filter((s) => s.cpu === 4)
        .map((s) => s.name)
        .sort(),
    ).toEqual(
      [
        'bswap16',
        'bswap32',
        'bswap64',
        'ja32',
        'ldxsb',
        'ldxsh',
        'ldxsw',
        'movsx1632',
        'movsx1664',
        'movsx3264',
        'movsx832',
        'movsx864',
        'sdiv',
        'sdiv',
        'sdiv32',
        'sdiv32',
        'smod',
        'smod',
        'smod32',
        'smod32',
      ].sort(),
    );
  });
});

describe('codec', () => {
  it('round-trips every row in both byte orders', () => {
    const prog = OPCODES.map((_, i) => sampleOf(i));
    for (const order of ['le', 'be'] as const) {
      const bytes = encode(prog, order);
      expect(bytes.length).toBe(slotIndex(prog).slots * 8);
      expect(decode(bytes, order)).toEqual(prog);
    }
  });

  it('encodes the little-endian register byte as src<<4|dst and big-endian as dst<<4|src', () => {
    const i = insnNamed('add', { dst: 1, src: 2 }, 'X');
    expect([...encode([i], 'le')]).toEqual([0x0f, 0x21, 0, 0, 0, 0, 0, 0]);
    expect([...encode([i], 'be')]).toEqual([0x0f, 0x12, 0, 0, 0, 0, 0, 0]);
  });

  it('folds lddw into one instruction of two slots', () => {
    const bytes = encodeSlots([
      { code: 0x18, dst: 0, src: 0, off: 0, imm: 0x55667788 },
      { code: 0, dst: 0, src: 0, off: 0, imm: 0x11223344 },
      { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
    ]);
    const [ld, exit] = decode(bytes);
    expect(ld?.spec.name).toBe('lddw');
    expect(imm64Of(ld!)).toBe(0x1122334455667788n);
    expect(exit?.spec.name).toBe('exit');
    expect(lddw(3, -1n)).toMatchObject({ imm: -1, imm2: -1, dst: 3 });
  });

  it('distinguishes overloaded opcodes by their fields', () => {
    const slot = (code: number, f: Partial<RawSlot>): RawSlot => ({ code, dst: 1, src: 0, off: 0, imm: 0, ...f });
    const names = decode(
      encodeSlots([
        slot(0x3f, { src: 2, off: 1 }),
        slot(0xbf, { src: 2, off: 16 }),
        slot(0xdb, { src: 2, imm: 0xf1 }),
        slot(0xd7, { imm: 32 }),
        slot(0x85, { dst: 0, src: 1, imm: 3 }),
      ]),
    ).map((i) => i.spec.name);
    expect(names).toEqual(['sdiv', 'movsx1664', 'lock_cmpxchg', 'bswap32', 'call_local']);
  });
});

describe('reserved fields, in the kernel wording', () => {
  const cases: [string, RawSlot[], string][] = [
    ['add32 imm with offset', [{ code: 0x04, dst: 0, src: 0, off: 1, imm: 1 }], 'BPF_ALU uses reserved fields'],
    ['add imm with src', [{ code: 0x07, dst: 0, src: 1, off: 0, imm: 1 }], 'BPF_ALU uses reserved fields'],
    ['add reg with imm', [{ code: 0x0f, dst: 0, src: 1, off: 0, imm: 1 }], 'BPF_ALU uses reserved fields'],
    ['mov reg with offset 3', [{ code: 0xbf, dst: 0, src: 1, off: 3, imm: 0 }], 'BPF_MOV uses reserved fields'],
    ['mov32 movsx32', [{ code: 0xbc, dst: 0, src: 1, off: 32, imm: 0 }], 'BPF_MOV uses reserved fields'],
    ['neg with imm', [{ code: 0x87, dst: 0, src: 0, off: 0, imm: 1 }], 'BPF_NEG uses reserved fields'],
    ['le16 with src', [{ code: 0xd4, dst: 0, src: 1, off: 0, imm: 16 }], 'BPF_END uses reserved fields'],
    ['be width 8', [{ code: 0xdc, dst: 0, src: 0, off: 0, imm: 8 }], 'BPF_END uses reserved fields'],
    ['ja with dst', [{ code: 0x05, dst: 1, src: 0, off: 0, imm: 0 }], 'BPF_JA uses reserved fields'],
    ['ja32 with off', [{ code: 0x06, dst: 0, src: 0, off: 1, imm: 0 }], 'BPF_JA uses reserved fields'],
    ['call with dst', [{ code: 0x85, dst: 1, src: 0, off: 0, imm: 0 }], 'BPF_CALL uses reserved fields'],
    ['call src 3', [{ code: 0x85, dst: 0, src: 3, off: 0, imm: 0 }], 'BPF_CALL uses reserved fields'],
    ['exit with imm', [{ code: 0x95, dst: 0, src: 0, off: 0, imm: 1 }], 'BPF_EXIT uses reserved fields'],
    ['jeq imm with src', [{ code: 0x15, dst: 0, src: 1, off: 0, imm: 0 }], 'BPF_JMP/JMP32 uses reserved fields'],
    ['jeq reg with imm', [{ code: 0x1d, dst: 0, src: 1, off: 0, imm: 1 }], 'BPF_JMP/JMP32 uses reserved fields'],
    ['ldxw with imm', [{ code: 0x61, dst: 0, src: 1, off: 0, imm: 1 }], 'BPF_LDX uses reserved fields'],
    ['stw with src', [{ code: 0x62, dst: 1, src: 1, off: 0, imm: 1 }], 'BPF_ST uses reserved fields'],
    ['stxdw with imm', [{ code: 0x7b, dst: 1, src: 1, off: 0, imm: 1 }], 'BPF_STX uses reserved fields'],
    ['atomic op 0x02', [{ code: 0xdb, dst: 1, src: 1, off: 0, imm: 2 }], 'BPF_ATOMIC uses invalid atomic opcode 02'],
    ['unknown opcode', [{ code: 0x8f, dst: 0, src: 0, off: 0, imm: 0 }], 'unknown opcode 8f'],
    ['lddw at the end', [{ code: 0x18, dst: 0, src: 0, off: 0, imm: 0 }], 'invalid bpf_ld_imm64 insn'],
    ['register 11', [{ code: 0xb7, dst: 11, src: 0, off: 0, imm: 0 }], 'R11 is invalid'],
  ];
  for (const [what, slots, message] of cases) {
    it(what, () => {
      const err = (() => {
        try {
          decode(encodeSlots([{ code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }, ...slots]));
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(IsaError);
      expect((err as IsaError).detail).toBe(message);
      expect((err as IsaError).index).toBe(1);
      expect((err as IsaError).offset).toBe(8);
    });
  }

  it('rejects a byte length that is not a multiple of 8', () => {
    expect(() => decodeSlots(new Uint8Array(12))).toThrow(/not a multiple of 8/);
  });

  it('never throws anything but IsaError on random bytes, and whatever decodes re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 64 }).map((a) => a.slice(0, a.length - (a.length % 8))),
        (bytes) => {
          try {
            const prog = decode(bytes);
            expect([...encode(prog)]).toEqual([...bytes]);
          } catch (e) {
            if (!(e instanceof IsaError)) throw e;
          }
        },
      ),
      { numRuns: 5000 },
    );
  });
});
