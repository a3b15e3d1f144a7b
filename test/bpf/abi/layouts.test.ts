import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ADDON_ENTRY,
  AbiError,
  CMD_HDR,
  decodeCmdHeader,
  describeErrno,
  E,
  ERRNO,
  encodeCmdHeader,
  errnoName,
  fieldOf,
  KEXEC_BPF_RESULT,
  KEXEC_BPF_SUBCMD,
  KEXEC_CONTEXT,
  POST_V7_CMD_HDR,
  type StructLayout,
  toC,
} from '../../../bpf/abi/index.ts';
import { findTool, missingTool } from '../../support/env.ts';

const STRUCTS = [CMD_HDR, POST_V7_CMD_HDR, KEXEC_CONTEXT, KEXEC_BPF_RESULT, ADDON_ENTRY];

/** C source asserting every offset and the size, for clang to check at compile time. */
const assertions = (s: StructLayout): string =>
  [
    toC(s),
    `_Static_assert(sizeof(struct ${s.name}) == ${s.size}, "sizeof ${s.name}");`,
    ...s.fields.map(
      (f) => `_Static_assert(__builtin_offsetof(struct ${s.name}, ${f.name}) == ${f.offset}, "${s.name}.${f.name}");`,
    ),
  ].join('\n');

describe('struct layouts', () => {
  it('computes the v6 layouts by hand-checkable rules', () => {
    expect(CMD_HDR.size).toBe(8);
    expect(POST_V7_CMD_HDR.size).toBe(10);
    expect(KEXEC_CONTEXT.size).toBe(56);
    expect(fieldOf(KEXEC_CONTEXT, 'kernel').offset).toBe(8);
    expect(fieldOf(KEXEC_CONTEXT, 'cmdline_sz').offset).toBe(48);
    expect(KEXEC_BPF_RESULT.size).toBe(64);
    expect(() => fieldOf(CMD_HDR, 'nope')).toThrow(/struct cmd_hdr has no field nope/);
  });

  for (const s of STRUCTS) {
    it(`${s.name} matches clang for bpf, x86_64 and arm64`, (ctx) => {
      const why = missingTool('clang');
      if (why) ctx.skip(why);
      const clang = findTool('clang') as string;
      const src = `typedef unsigned char __u8; typedef unsigned short __u16; typedef unsigned int __u32;
typedef int __s32; typedef unsigned long long __u64; typedef long long __s64; typedef _Bool bool;\n${assertions(s)}\n`;
      for (const target of ['bpf', 'x86_64-linux-gnu', 'aarch64-linux-gnu']) {
        const r = spawnSync(clang, ['-target', target, '-fsyntax-only', '-x', 'c', '-'], {
          input: src,
          encoding: 'utf8',
        });
        expect(r.stderr, target).toBe('');
        expect(r.status, target).toBe(0);
      }
    });
  }
});

describe('command stream', () => {
  it('encodes and decodes cmd_hdr little-endian', () => {
    const b = encodeCmdHeader({ cmd: 1, subcmd: KEXEC_BPF_SUBCMD.KERNEL, payloadLen: 0x01020304 });
    expect([...b]).toEqual([1, 0, 1, 0, 4, 3, 2, 1]);
    fc.assert(
      fc.property(fc.nat(0xffff), fc.nat(0xffff), fc.nat(0xffffffff), fc.nat(16), (cmd, subcmd, payloadLen, pad) => {
        const buf = new Uint8Array(pad + 8);
        buf.set(encodeCmdHeader({ cmd, subcmd, payloadLen }), pad);
        expect(decodeCmdHeader(buf, pad)).toEqual({ cmd, subcmd, payloadLen });
      }),
      { numRuns: 200 },
    );
  });

  it('names the offset of a short header', () => {
    const err = (() => {
      try {
        decodeCmdHeader(new Uint8Array(10), 4);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(AbiError);
    expect(err).toMatchObject({ code: 'SHORT_BUFFER', offset: 4 });
    expect(() => decodeCmdHeader(new Uint8Array(8), -1)).toThrow(AbiError);
  });

  it('numbers subcommands like the boot resources', () => {
    expect(KEXEC_BPF_SUBCMD).toEqual({ KERNEL: 1, INITRD: 2, CMDLINE: 3 });
  });
});

describe('errno', () => {
  it("equals the host's errno numbers", () => {
    const host = constants.errno as Record<string, number | undefined>;
    // node lists most, not all (no ENOKEY/EKEY*); compare the ones it has
    const known = Object.entries(ERRNO).filter(([name]) => host[name] !== undefined);
    expect(known.length).toBeGreaterThan(30);
    for (const [name, e] of known) expect(host[name], name).toBe(e.value);
    expect(new Set(Object.values(E)).size).toBe(Object.keys(E).length);
  });

  it('equals the uapi asm-generic headers', (ctx) => {
    const files = ['/usr/include/asm-generic/errno-base.h', '/usr/include/asm-generic/errno.h'];
    if (!files.every(existsSync)) ctx.skip('needs the asm-generic errno headers (Debian package linux-libc-dev)');
    const defs = new Map<string, number>();
    for (const f of files) {
      for (const m of readFileSync(f, 'utf8').matchAll(/#define\s+(E\w+)\s+(\d+)/g)) defs.set(m[1] ?? '', Number(m[2]));
    }
    for (const [name, e] of Object.entries(ERRNO)) {
      if (name === 'ENOTSUPP') continue;
      expect(defs.get(name), name).toBe(e.value);
    }
  });

  it('describes helper returns', () => {
    expect(errnoName(-22)).toBe('EINVAL');
    expect(describeErrno(-E.ENOEXEC)).toBe('-ENOEXEC (Exec format error)');
    expect(describeErrno(-4095)).toBe('-E4095');
    expect(errnoName(0)).toBeUndefined();
  });
});
