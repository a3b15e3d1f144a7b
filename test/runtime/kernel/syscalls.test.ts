/** bpf() and the argument checks of kexec_file_load in the model, with the kernel's errno for each. */
import { closeSync, mkdirSync, openSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BPF_ATTACH_TYPE, BPF_MAP_TYPE, BPF_PROG_TYPE, E, KEXEC_PE_PARSER_HOOK } from '../../../bpf/abi/index.ts';
import { assembleUbpf } from '../../../bpf/asm/ubpf/index.ts';
import { encode } from '../../../bpf/isa/index.ts';
import { eventfdCreate, KEXEC_FILE, Kernel } from '../../../runtime/kernel/index.ts';
import { openRead, payload, synthBzImage, tempDir } from './support.ts';

const tmp = tempDir();
let kernel: Kernel;
beforeAll(async () => {
  kernel = await Kernel.create({ procRoot: join(tmp.dir, 'proc'), sigPolicy: 'off' });
});
afterAll(() => {
  kernel.shutdown();
  tmp.remove();
  expect(kernel.heldFds()).toEqual([]);
});

const u32 = (v: number) => new Uint8Array(new Uint32Array([v]).buffer);
const asm = (text: string) => encode(assembleUbpf(text).insns);

describe('bpf(): maps', () => {
  it('creates, updates, looks up and freezes an array map', () => {
    const fd = kernel.bpf({
      cmd: 'MAP_CREATE',
      mapType: BPF_MAP_TYPE.ARRAY,
      keySize: 4,
      valueSize: 8,
      maxEntries: 2,
      name: 'arr',
    }).ret;
    expect(fd).toBeGreaterThan(2);
    const value = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    expect(kernel.bpf({ cmd: 'MAP_UPDATE_ELEM', fd, key: u32(1), value }).ret).toBe(0);
    expect(kernel.bpf({ cmd: 'MAP_LOOKUP_ELEM', fd, key: u32(1) })).toEqual({ ret: 0, value });
    expect(kernel.bpf({ cmd: 'MAP_UPDATE_ELEM', fd, key: u32(2), value }).ret).toBe(-E.E2BIG);
    expect(kernel.bpf({ cmd: 'MAP_UPDATE_ELEM', fd, key: u32(0), value: value.subarray(0, 4) }).ret).toBe(-E.EINVAL);
    expect(kernel.bpf({ cmd: 'MAP_FREEZE', fd }).ret).toBe(0);
    expect(kernel.bpf({ cmd: 'MAP_FREEZE', fd }).ret).toBe(-E.EBUSY);
    expect(kernel.bpf({ cmd: 'MAP_UPDATE_ELEM', fd, key: u32(0), value }).ret).toBe(-E.EPERM);
    expect(kernel.close(fd)).toBe(0);
    expect(kernel.bpf({ cmd: 'MAP_LOOKUP_ELEM', fd, key: u32(1) }).ret).toBe(-E.EBADF);
  });

  it('answers a hash map miss with -ENOENT and a ring buffer update with -ENOTSUPP', () => {
    const h = kernel.bpf({
      cmd: 'MAP_CREATE',
      mapType: BPF_MAP_TYPE.HASH,
      keySize: 4,
      valueSize: 4,
      maxEntries: 4,
    }).ret;
    expect(kernel.bpf({ cmd: 'MAP_LOOKUP_ELEM', fd: h, key: u32(9) }).ret).toBe(-E.ENOENT);
    const rb = kernel.bpf({
      cmd: 'MAP_CREATE',
      mapType: BPF_MAP_TYPE.RINGBUF,
      keySize: 0,
      valueSize: 0,
      maxEntries: 4096,
    }).ret;
    expect(kernel.bpf({ cmd: 'MAP_UPDATE_ELEM', fd: rb, key: new Uint8Array(), value: new Uint8Array() }).ret).toBe(
      -E.ENOTSUPP,
    );
    expect(kernel.bpf({ cmd: 'RINGBUF_CONSUME', fd: rb })).toEqual({ ret: 0, records: [] });
    expect(kernel.close(h)).toBe(0);
    expect(kernel.close(rb)).toBe(0);
  });

  it('refuses bad attributes as MAP_CREATE does', () => {
    const bad = (a: Partial<{ mapType: number; maxEntries: number; name: string }>) =>
      kernel.bpf({ cmd: 'MAP_CREATE', mapType: BPF_MAP_TYPE.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, ...a }).ret;
    expect(bad({ mapType: BPF_MAP_TYPE.LRU_HASH })).toBe(-E.EINVAL);
    expect(bad({ maxEntries: 0 })).toBe(-E.EINVAL);
    expect(bad({ name: 'has space' })).toBe(-E.EINVAL);
    expect(bad({ name: 'sixteen_chars_xx' })).toBe(-E.EINVAL);
    expect(bad({ mapType: BPF_MAP_TYPE.RINGBUF, maxEntries: 4095 })).toBe(-E.EINVAL);
  });
});

describe('bpf(): programs and links', () => {
  const hookProg = (text: string, logLevel = 1) =>
    kernel.bpf({
      cmd: 'PROG_LOAD',
      progType: BPF_PROG_TYPE.TRACING,
      expectedAttachType: BPF_ATTACH_TYPE.BPF_TRACE_FENTRY,
      attachTarget: KEXEC_PE_PARSER_HOOK.name,
      progFlags: 1 << 4,
      insns: asm(text),
      license: 'GPL',
      logLevel,
    });

  it('loads a program the verifier accepts and attaches it to the hook', () => {
    const p = hookProg('mov %r0, 0\nexit');
    expect(p.ret).toBeGreaterThan(2);
    expect(p.log).toMatch(/^processed 2 insns/m);
    const l = kernel.bpf({ cmd: 'LINK_CREATE', progFd: p.ret, attachType: BPF_ATTACH_TYPE.BPF_TRACE_FENTRY });
    expect(l.ret).toBeGreaterThan(2);
    expect(kernel.bpfSys.attached()).toHaveLength(1);
    expect(kernel.close(l.ret)).toBe(0);
    expect(kernel.bpfSys.attached()).toHaveLength(0);
    expect(kernel.close(p.ret)).toBe(0);
  });

  it('refuses what the verifier rejects, with its errno and log, and hands out no fd', () => {
    const before = kernel.heldFds();
    const r = hookProg('mov %r0, %r2\nexit');
    expect(r.ret).toBe(-E.EACCES);
    expect(r.log).toContain('R2 !read_ok');
    expect(hookProg('mov %r0, 1\nexit')).toMatchObject({ ret: -E.EINVAL });
    // log level 0: no log, as Linux
    expect(hookProg('mov %r0, %r2\nexit', 0)).toEqual({ ret: -E.EACCES, log: '' });
    expect(kernel.heldFds()).toEqual(before);
  });

  it('names a bad map fd as the kernel does', () => {
    const r = hookProg('lddw_map_fd %r1, 999\nmov %r0, 0\nexit');
    expect(r).toEqual({ ret: -E.EBADF, log: 'fd 999 is not pointing to valid bpf_map\n' });
  });

  it('refuses other attach targets and attaching a program of another type', () => {
    const other = kernel.bpf({
      cmd: 'PROG_LOAD',
      progType: BPF_PROG_TYPE.TRACING,
      expectedAttachType: BPF_ATTACH_TYPE.BPF_TRACE_FENTRY,
      attachTarget: 'do_sys_open',
      insns: asm('mov %r0, 0\nexit'),
      license: 'GPL',
      logLevel: 1,
    });
    expect(other.ret).toBe(-E.EINVAL);
    const sf = kernel.bpf({
      cmd: 'PROG_LOAD',
      progType: BPF_PROG_TYPE.SOCKET_FILTER,
      insns: asm('mov %r0, 0\nexit'),
      license: 'GPL',
    });
    expect(sf.ret).toBeGreaterThan(2);
    expect(kernel.bpf({ cmd: 'LINK_CREATE', progFd: sf.ret, attachType: BPF_ATTACH_TYPE.BPF_TRACE_FENTRY }).ret).toBe(
      -E.EINVAL,
    );
    expect(kernel.bpf({ cmd: 'LINK_CREATE', progFd: 12345, attachType: BPF_ATTACH_TYPE.BPF_TRACE_FENTRY }).ret).toBe(
      -E.EBADF,
    );
    expect(kernel.close(sf.ret)).toBe(0);
    expect(kernel.close(sf.ret)).toBe(-E.EBADF);
  });
});

describe('registering the loader', () => {
  it('takes eventfds (keeping its own references) and addon files', () => {
    const a = eventfdCreate();
    const b = eventfdCreate();
    const addonPath = join(tmp.dir, 'debug.addon.efi');
    writeFileSync(addonPath, payload(100));
    const addon = openRead(addonPath);
    const before = kernel.heldFds();
    expect(kernel.registerLoader({ eventA: a, eventB: b, addons: [{ name: 'debug.addon.efi', fd: addon }] })).toBe(0);
    const held = kernel.heldFds().filter((fd) => !before.includes(fd));
    expect(held).toHaveLength(2); // the kernel's dup()s of the eventfds
    expect(held.map((fd) => readlinkSync(`/proc/self/fd/${fd}`))).toEqual([
      'anon_inode:[eventfd]',
      'anon_inode:[eventfd]',
    ]);
    expect(kernel.registerLoader({ eventA: a, eventB: addon })).toBe(-E.EINVAL); // not an eventfd
    expect(kernel.registerLoader({ eventA: a, eventB: 9999 })).toBe(-E.EBADF);
    expect(kernel.registerLoader({ eventA: a, eventB: b, addons: [{ name: 'x', fd: 9999 }] })).toBe(-E.EBADF);
    expect(kernel.heldFds()).toEqual([...before, ...held]); // failed calls keep the old registration
    expect(kernel.registerLoader({ eventA: -1, eventB: -1 })).toBe(0);
    expect(kernel.heldFds()).toEqual(before);
    for (const fd of [a, b]) expect(kernel.close(fd)).toBe(0);
    closeSync(addon); // Node opened it: Node closes it (it tracks its own fds)
  });
});

describe('kexec_file_load(): arguments', () => {
  const file = (name: string, bytes: Uint8Array): string => {
    const p = join(tmp.dir, name);
    writeFileSync(p, bytes);
    return p;
  };

  it('answers as kernel_read_file_from_fd and the flag check do', async () => {
    const kfd = openRead(file('bz', synthBzImage(payload(64))));
    const empty = openRead(file('empty', new Uint8Array()));
    mkdirSync(join(tmp.dir, 'dir'));
    const dir = openSync(join(tmp.dir, 'dir'), 'r');
    const wronly = openSync(join(tmp.dir, 'wronly'), 'w');
    const load = (a: Partial<Parameters<Kernel['kexecFileLoad']>[0]>) =>
      kernel.kexecFileLoad({ kernelFd: kfd, initrdFd: -1, flags: KEXEC_FILE.NO_INITRAMFS, ...a });
    try {
      expect(await load({ flags: 0x40 })).toBe(-E.EINVAL);
      expect(await load({ kernelFd: 9999 })).toBe(-E.EBADF);
      expect(await load({ kernelFd: empty })).toBe(-E.EINVAL);
      expect(await load({ kernelFd: dir })).toBe(-E.EINVAL);
      expect(await load({ kernelFd: wronly })).toBe(-E.EBADF);
      expect(await load({ flags: 0 })).toBe(-E.EBADF); // initrd_fd -1 without KEXEC_FILE_NO_INITRAMFS
      expect(await load({ cmdline: Uint8Array.of(0x61, 0x62) })).toBe(-E.EINVAL); // not NUL-terminated
      expect(await load({ cmdline: 'x'.repeat(3000) })).toBe(-E.EINVAL); // longer than cmdline_size
      expect(await load({ cmdline: 'console=ttyS0' })).toBe(0);
      expect(kernel.kimage()?.cmdline).toEqual(new Uint8Array(Buffer.from('console=ttyS0\0')));
      expect(await load({ initrdFd: empty, flags: 0 })).toBe(-E.EINVAL);
    } finally {
      for (const fd of [kfd, empty, dir, wronly]) closeSync(fd);
    }
  });
});
