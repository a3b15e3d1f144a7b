/**
 * Entry-name rules of this project's reader and writer (stricter than the kernel, which only needs a NUL
 * terminator and at most PATH_MAX bytes): relative, no `..` component, no NUL, no empty component except
 * one trailing `/`, components of at most NAME_MAX bytes, at most PATH_MAX bytes with the NUL.
 */
import { CPIO_ERROR, CpioError } from './errors.ts';
import { NAME_MAX, PATH_MAX } from './newc.ts';

const utf8 = new TextEncoder();

/** Throws BAD_NAME (at `offset`, the name's position) when `name` breaks a rule; returns its UTF-8 bytes. */
export const checkName = (name: string, offset: number): Uint8Array => {
  const bytes = utf8.encode(name);
  const bad = (why: string): never => {
    throw new CpioError(CPIO_ERROR.BAD_NAME, offset, `name ${JSON.stringify(name.slice(0, 80))} ${why}`);
  };
  if (bytes.length === 0) bad('is empty');
  if (bytes.includes(0)) bad('contains a NUL byte');
  if (bytes.length + 1 > PATH_MAX) bad(`is longer than PATH_MAX (${PATH_MAX} bytes with the NUL)`);
  if (name.startsWith('/')) bad('is absolute');
  const parts = name.split('/');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  for (const part of parts) {
    if (part === '') bad('has an empty component');
    if (part === '..') bad('has a ".." component');
    if (utf8.encode(part).length > NAME_MAX) bad(`has a component longer than NAME_MAX (${NAME_MAX} bytes)`);
  }
  return bytes;
};
