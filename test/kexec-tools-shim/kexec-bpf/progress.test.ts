/** The progress bar: drawn only on a TTY and for large inputs, and the hashes it computes are right. */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, expect, it } from 'vitest';
import { hashWithProgress } from '../../../kexec-tools-shim/kexec-bpf/progress.ts';

const dir = mkdtempSync(join(tmpdir(), 'kexec-bpf-progress-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const terminal = (isTTY: boolean) => {
  const s = Object.assign(new PassThrough(), { isTTY, columns: 100, cursorTo: () => true, clearLine: () => true });
  let text = '';
  s.on('data', (d: Buffer) => {
    text += d.toString();
  });
  return { s, text: () => text };
};

it('draws a bar on a TTY for large inputs and returns their sha256', async () => {
  const big = join(dir, 'big.img');
  const bytes = Buffer.alloc(3 * 2 ** 20, 7);
  writeFileSync(big, bytes);
  const t = terminal(true);
  const h = await hashWithProgress([big], t.s, 2 ** 20);
  expect(h?.get(big)).toBe(createHash('sha256').update(bytes).digest('hex'));
  expect(t.text()).toContain('kexec-bpf: reading');
  const quiet = terminal(false);
  expect(await hashWithProgress([big], quiet.s, 2 ** 20)).toBeUndefined();
  expect(await hashWithProgress([big], t.s, 2 ** 30)).toBeUndefined();
  expect(quiet.text()).toBe('');
});
