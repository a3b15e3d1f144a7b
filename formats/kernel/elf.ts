/** ELF identification (what a decompressed vmlinux is): class, byte order, type and machine from the ELF header. */
import { KERNEL_IMAGE_ERROR, KernelImageError } from './errors.ts';

export const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46] as const;
/** e_machine values of the architectures that boot through these formats. */
export const ELF_MACHINES = {
  3: 'i386',
  62: 'x86_64',
  183: 'aarch64',
  243: 'riscv',
  258: 'loongarch',
  40: 'arm',
  247: 'bpf',
} as const;

export interface ElfIdent {
  readonly class: 32 | 64;
  readonly endian: 'le' | 'be';
  /** e_type: 1 relocatable, 2 executable (vmlinux), 3 shared, 4 core. */
  readonly type: number;
  readonly machine: number;
  readonly machineName: string | undefined;
}

export const isElf = (b: Uint8Array): boolean => b.length >= 4 && ELF_MAGIC.every((m, i) => b[i] === m);

export const parseElfIdent = (b: Uint8Array): ElfIdent => {
  if (!isElf(b)) throw new KernelImageError(KERNEL_IMAGE_ERROR.BAD_MAGIC, 0, 'no ELF magic (7f 45 4c 46)');
  if (b.length < 6) throw new KernelImageError(KERNEL_IMAGE_ERROR.TRUNCATED, b.length, 'file ends inside e_ident');
  const cls = b[4];
  if (cls !== 1 && cls !== 2)
    throw new KernelImageError(KERNEL_IMAGE_ERROR.BAD_MAGIC, 4, `EI_CLASS ${cls} is neither 1 nor 2`);
  const data = b[5];
  if (data !== 1 && data !== 2)
    throw new KernelImageError(KERNEL_IMAGE_ERROR.BAD_MAGIC, 5, `EI_DATA ${data} is neither 1 nor 2`);
  if (b.length < 20)
    throw new KernelImageError(KERNEL_IMAGE_ERROR.TRUNCATED, b.length, 'file ends inside the ELF header');
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = data === 1;
  const machine = v.getUint16(18, le);
  return {
    class: cls === 1 ? 32 : 64,
    endian: le ? 'le' : 'be',
    type: v.getUint16(16, le),
    machine,
    machineName: (ELF_MACHINES as Record<number, string>)[machine],
  };
};
