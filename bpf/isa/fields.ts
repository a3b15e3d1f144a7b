/**
 * The bit fields of an eBPF instruction (RFC 9669 §3), as named constants.
 *
 *   byte 0        byte 1          bytes 2-3      bytes 4-7
 *  +--------+----------------+--------------+---------------+
 *  | opcode | src:4 | dst:4  |  offset s16  |   imm  s32    |   (little-endian object)
 *  +--------+----------------+--------------+---------------+
 *
 *  opcode, ALU/JMP classes:   op:4 | source:1 | class:3
 *  opcode, LD/LDX/ST/STX:     mode:3 | size:2 | class:3
 *
 * Every other module reads these names; no numeric opcode literal lives elsewhere.
 */

export const Class = {
  LD: 0x00,
  LDX: 0x01,
  ST: 0x02,
  STX: 0x03,
  ALU: 0x04,
  JMP: 0x05,
  JMP32: 0x06,
  ALU64: 0x07,
} as const;
export type ClassCode = (typeof Class)[keyof typeof Class];

export const Source = { K: 0x00, X: 0x08 } as const;

export const Mode = {
  IMM: 0x00,
  ABS: 0x20,
  IND: 0x40,
  MEM: 0x60,
  MEMSX: 0x80,
  ATOMIC: 0xc0,
} as const;

export const Size = { W: 0x00, H: 0x08, B: 0x10, DW: 0x18 } as const;

export const AluOp = {
  ADD: 0x00,
  SUB: 0x10,
  MUL: 0x20,
  DIV: 0x30,
  OR: 0x40,
  AND: 0x50,
  LSH: 0x60,
  RSH: 0x70,
  NEG: 0x80,
  MOD: 0x90,
  XOR: 0xa0,
  MOV: 0xb0,
  ARSH: 0xc0,
  END: 0xd0,
} as const;

export const JmpOp = {
  JA: 0x00,
  JEQ: 0x10,
  JGT: 0x20,
  JGE: 0x30,
  JSET: 0x40,
  JNE: 0x50,
  JSGT: 0x60,
  JSGE: 0x70,
  CALL: 0x80,
  EXIT: 0x90,
  JLT: 0xa0,
  JLE: 0xb0,
  JSLT: 0xc0,
  JSLE: 0xd0,
  /** may_goto (Linux 6.9+, not in RFC 9669). */
  JCOND: 0xe0,
} as const;

/** The imm field of an ATOMIC instruction selects the operation. */
export const AtomicOp = {
  ADD: 0x00,
  OR: 0x40,
  AND: 0x50,
  XOR: 0xa0,
  FETCH: 0x01,
  XCHG: 0xe1,
  CMPXCHG: 0xf1,
} as const;

/** The src_reg field of lddw (0x18) selects how imm is interpreted (RFC 9669 §5.4). */
export const LdImmSrc = {
  IMM64: 0,
  MAP_FD: 1,
  MAP_VALUE: 2,
  BTF_ID: 3,
  FUNC: 4,
  MAP_IDX: 5,
  MAP_IDX_VALUE: 6,
} as const;
export type LdImmSrcCode = (typeof LdImmSrc)[keyof typeof LdImmSrc];

/** The src_reg field of CALL (0x85) selects the call kind. */
export const CallSrc = {
  HELPER: 0,
  LOCAL: 1,
  KFUNC: 2,
} as const;

/** Bit masks to take an opcode apart. */
export const Mask = {
  CLASS: 0x07,
  SOURCE: 0x08,
  OP: 0xf0,
  MODE: 0xe0,
  SIZE: 0x18,
} as const;

export const classOf = (code: number): ClassCode => (code & Mask.CLASS) as ClassCode;

/** Size field value → bytes. */
export const sizeBytes = (code: number): 1 | 2 | 4 | 8 => {
  switch (code & Mask.SIZE) {
    case Size.B:
      return 1;
    case Size.H:
      return 2;
    case Size.W:
      return 4;
    default:
      return 8;
  }
};

/** Bytes of one instruction slot; lddw spans two. */
export const SLOT_BYTES = 8;
/** Registers R0..R10; R10 is the read-only frame pointer. */
export const MAX_REG = 10;
export const FRAME_POINTER = 10;
