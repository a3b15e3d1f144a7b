/**
 * Capability probes for tests that need root, the kernel's bpf(2) or a Debian tool. A test that lacks
 * one skips itself by name with the reason (`ctx.skip(reason)`), never passes silently.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

const toolCache = new Map<string, string | undefined>();

/** Absolute path of an executable on PATH (or the given absolute path), else undefined. */
export const findTool = (name: string): string | undefined => {
  if (toolCache.has(name)) return toolCache.get(name);
  let found: string | undefined;
  const candidates = name.startsWith('/')
    ? [name]
    : (process.env.PATH ?? '')
        .split(':')
        .concat(['/usr/sbin', '/sbin'])
        .map((d) => `${d}/${name}`);
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      found = c;
      break;
    } catch {
      // not here
    }
  }
  toolCache.set(name, found);
  return found;
};

export const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** Reason a tool-dependent test cannot run, or undefined when it can. */
export const missingTool = (...names: string[]): string | undefined => {
  const missing = names.filter((n) => findTool(n) === undefined);
  return missing.length ? `needs ${missing.join(', ')} (not installed; make test installs it)` : undefined;
};

/** Reason a root/bpf(2)-dependent test cannot run, or undefined when it can. */
export const missingBpf = (): string | undefined => {
  if (!isRoot()) return 'needs root for bpf(2)';
  const bpftool = findTool('bpftool');
  if (bpftool === undefined) return 'needs bpftool';
  const probe = spawnSync(bpftool, ['feature', 'probe', 'kernel', 'unprivileged_bpf_disabled'], { encoding: 'utf8' });
  if (probe.status !== 0 && /Operation not permitted|not supported/i.test(probe.stderr)) {
    return `bpf(2) not usable here: ${probe.stderr.trim().split('\n')[0]}`;
  }
  return undefined;
};
