/**
 * Reads helper ids and enum values out of the installed uapi header (Debian's linux-libc-dev), to
 * compare the ABI tables against a second source. Handles both mapper styles: `FN(name, id, ##ctx)`
 * (Linux >= 6.2) and the older `FN(name),` whose ids are positional.
 */
import { existsSync, readFileSync } from 'node:fs';

export const UAPI_BPF_H = '/usr/include/linux/bpf.h';

export const missingUapiHeader = (): string | undefined =>
  existsSync(UAPI_BPF_H) ? undefined : `needs ${UAPI_BPF_H} (Debian package linux-libc-dev)`;

export const readUapi = (): string => readFileSync(UAPI_BPF_H, 'utf8');

/** helper name (without bpf_) → id */
export const parseHelperMapper = (src: string): Map<string, number> => {
  const start = src.search(/#define _{2,3}BPF_FUNC_MAPPER\(FN(, ctx\.\.\.)?\)/);
  if (start < 0) throw new Error('no __BPF_FUNC_MAPPER in header');
  const end = src.indexOf('\n\n', start);
  const body = src.slice(start, end < 0 ? undefined : end);
  const out = new Map<string, number>();
  let next = 0;
  for (const m of body.matchAll(/FN\((\w+)(?:,\s*(\d+))?/g)) {
    const [, name, id] = m;
    if (name === undefined) continue;
    const value = id === undefined ? next : Number(id);
    out.set(name, value);
    next = value + 1;
  }
  return out;
};

/** enumerator → value for `enum <name> { ... }` (implicit increments and `= OTHER` aliases). */
export const parseEnum = (src: string, name: string): Map<string, number> => {
  const m = new RegExp(`enum ${name} \\{([\\s\\S]*?)\\n\\};`).exec(src);
  if (m?.[1] === undefined) throw new Error(`no enum ${name} in header`);
  const body = m[1].replace(/\/\*[\s\S]*?\*\//g, '');
  const out = new Map<string, number>();
  let next = 0;
  for (const raw of body.split(',')) {
    const item = raw.trim();
    if (item === '' || item.startsWith('__')) continue;
    const [key, value] = item.split('=').map((s) => s.trim());
    if (key === undefined) continue;
    const v = value === undefined ? next : (out.get(value) ?? Number(value));
    out.set(key, v);
    next = v + 1;
  }
  return out;
};
