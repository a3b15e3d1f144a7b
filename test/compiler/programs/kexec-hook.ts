import {
  arrayMap,
  carrier,
  decompress,
  IN,
  OUT,
  program,
  ringbuf,
  supplementInitrd,
  u32,
} from '../../../compiler/dsl/index.ts';

/** The addon to add, by name (NUL-terminated), as the loader fills it. */
export const addonName = arrayMap({ valueSize: 64, maxEntries: 1 });
/** Element 0: the kernel as loaded; element 1: its decompressed form. */
export const work = arrayMap({ valueSize: 4096, maxEntries: 2 });
export const result = ringbuf({ size: 4096 });

/**
 * At the proposal's hook: fetch the kernel, decompress it and hand it back, add an addon to the
 * initrd, and report each helper's result in a ring-buffer record.
 */
export const parse = program({ section: 'fentry.s/kexec_pe_parser_hook', license: 'GPL' }, () => {
  const src = work.lookup(0);
  const dst = work.lookup(1);
  const name = addonName.lookup(0);
  if (src === null || dst === null || name === null) return 0;
  const r = result.reserve(16);
  if (r === null) return 0;
  const n = carrier('kernel', src, 4096, IN);
  r.setU32(0, u32(n));
  if (n > 0) {
    const m = decompress(src, 4096, dst, 4096);
    r.setU32(4, u32(m));
    if (m > 0) r.setU32(8, u32(carrier('kernel', dst, m, OUT)));
  }
  r.setU32(12, u32(supplementInitrd('/.extra/sysext', name, 64)));
  r.submit();
  return 0;
});
