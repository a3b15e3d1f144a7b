/**
 * The v6/v7 command stream: what a program hands to bpf_buffer_parser(), parsed in the kernel by
 * kexec_buff_parser(). One packed little-endian header, then payload_len bytes of payload.
 * Also `struct kexec_context`, the anchor's first argument.
 */
import { AbiError } from './errors.ts';
import { BOOT_RESOURCES } from './resources.ts';
import { layoutStruct } from './struct-layout.ts';

export const KEXEC_BPF_CMD = {
  /** payload is compressed; the format is found from its magic (decompress_method) */
  DECOMPRESS: 1,
  /** payload is copied as is */
  COPY: 2,
} as const;

/** Subcommands name the target resource; values shared with BOOT_RESOURCES ids. */
export const KEXEC_BPF_SUBCMD = Object.freeze(
  Object.fromEntries(BOOT_RESOURCES.map((r) => [r.name.toUpperCase(), r.id])),
) as Readonly<Record<Uppercase<(typeof BOOT_RESOURCES)[number]['name']>, number>>;

export const CMD_HDR = layoutStruct(
  'cmd_hdr',
  [
    { name: 'cmd', type: '__u16' },
    { name: 'subcmd', type: '__u16' },
    { name: 'payload_len', type: '__u32' },
  ],
  true,
);

/** Decompression streams into chunks of this size, merged at the end. */
export const KEXEC_BPF_CHUNK_SIZE = 1 << 23;
/** Cap on the decompressed size (MAX_UNCOMPRESSED_BUF_SIZE). */
export const KEXEC_BPF_MAX_UNCOMPRESSED = 1 << 29;

/** v6/v7 `struct kexec_context` (sizes are int; the bot review asked for unsigned long). */
export const KEXEC_CONTEXT = layoutStruct('kexec_context', [
  { name: 'kdump', type: 'bool' },
  { name: 'kernel', type: 'pointer', pointee: 'char' },
  { name: 'kernel_sz', type: 'int' },
  { name: 'initrd', type: 'pointer', pointee: 'char' },
  { name: 'initrd_sz', type: 'int' },
  { name: 'cmdline', type: 'pointer', pointee: 'char' },
  { name: 'cmdline_sz', type: 'int' },
]);

/**
 * The post-v7 code's revision (never posted as a series; kept for reference and decoding only):
 * commands renumbered, a pipeline flag and a chunk count added.
 */
export const POST_V7_CMD = { INVALID: 0, DONE: 1, DECOMPRESS: 2, COPY: 3, VERIFY_SIG: 4 } as const;
export const POST_V7_PIPELINE = { INVALID: 0, FILL: 1 } as const;
export const POST_V7_CMD_HDR = layoutStruct(
  'cmd_hdr_post_v7',
  [
    { name: 'cmd', type: '__u16' },
    { name: 'subcmd', type: '__u8' },
    { name: 'pipeline_flag', type: '__u8' },
    { name: 'payload_len', type: '__u32' },
    { name: 'num_chunks', type: '__u16' },
  ],
  true,
);

export interface CmdHeader {
  readonly cmd: number;
  readonly subcmd: number;
  readonly payloadLen: number;
}

/** Encode a v6 cmd_hdr (8 bytes, little-endian). */
export const encodeCmdHeader = (h: CmdHeader): Uint8Array => {
  const b = new Uint8Array(CMD_HDR.size);
  const v = new DataView(b.buffer);
  v.setUint16(0, h.cmd, true);
  v.setUint16(2, h.subcmd, true);
  v.setUint32(4, h.payloadLen, true);
  return b;
};

/** Decode a v6 cmd_hdr at `offset`; AbiError SHORT_BUFFER if the bytes end early. */
export const decodeCmdHeader = (bytes: Uint8Array, offset = 0): CmdHeader => {
  if (offset < 0 || offset + CMD_HDR.size > bytes.length) {
    throw new AbiError('SHORT_BUFFER', offset, `cmd_hdr needs ${CMD_HDR.size} bytes, buffer has ${bytes.length}`);
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset + offset, CMD_HDR.size);
  return { cmd: v.getUint16(0, true), subcmd: v.getUint16(2, true), payloadLen: v.getUint32(4, true) };
};
