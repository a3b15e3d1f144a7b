/**
 * The stub's string handling, code unit for code unit (systemd src/boot/efi-string.c, util.c, stub.c):
 * UTF-8 section text to UCS-2, command-line mangling, the `@N` profile prefix, and `.uname` comparison.
 * JS strings stand for char16_t strings: every unit is one UCS-2 character (no surrogates are produced).
 */

/**
 * xstrn8_to_16: decodes at most `n` bytes (stopping at a NUL that starts a sequence). A lead byte gives the
 * length (1–6, no overlong check); a bad lead byte skips 1 byte, a sequence cut short by `n` or with a bad
 * continuation byte skips the whole length; code points above 0xFFFF and surrogates are dropped.
 */
export const utf8ToUcs2 = (bytes: Uint8Array, n = bytes.length): string => {
  let left = Math.min(n, bytes.length);
  let at = 0;
  const out: number[] = [];
  while (left > 0 && bytes[at] !== 0) {
    const b0 = bytes[at]!;
    let len: number;
    let c: number;
    if ((b0 & 0x80) === 0) [len, c] = [1, b0];
    else if ((b0 & 0xe0) === 0xc0) [len, c] = [2, b0 & 0x1f];
    else if ((b0 & 0xf0) === 0xe0) [len, c] = [3, b0 & 0x0f];
    else if ((b0 & 0xf8) === 0xf0) [len, c] = [4, b0 & 0x07];
    else if ((b0 & 0xfc) === 0xf8) [len, c] = [5, b0 & 0x03];
    else if ((b0 & 0xfe) === 0xfc) [len, c] = [6, b0 & 0x01];
    else [len, c] = [1, -1];
    if (c >= 0 && len > left) c = -1;
    for (let i = 1; c >= 0 && i < len; i++) {
      const b = bytes[at + i] ?? 0;
      if ((b & 0xc0) !== 0x80) c = -1;
      else c = c * 64 + (b & 0x3f);
    }
    at += len;
    left = Math.max(0, left - len);
    if (c >= 0 && (c <= 0xd7ff || (c >= 0xe000 && c <= 0xffff))) out.push(c);
  }
  let s = '';
  for (let i = 0; i < out.length; i += 4096) s += String.fromCharCode(...out.slice(i, i + 4096));
  return s;
};

/** xstrndup8: the bytes up to the first NUL (or all of them). */
export const cString = (bytes: Uint8Array): Uint8Array => {
  const nul = bytes.indexOf(0);
  return nul < 0 ? bytes : bytes.subarray(0, nul);
};

/** Control characters and space (c <= 0x20 or 0x7F): the stub turns each into one space. */
const isStubWhitespace = (c: number): boolean => c <= 0x20 || c === 0x7f;

/**
 * mangle_stub_cmdline: stops at the first NUL, drops leading and trailing whitespace, turns every inner
 * control character into a space; runs of spaces are kept as they are.
 */
export const mangleCmdline = (s: string): string => {
  const nul = s.indexOf('\0');
  const t = nul < 0 ? s : s.slice(0, nul);
  let start = 0;
  while (start < t.length && isStubWhitespace(t.charCodeAt(start))) start++;
  let end = t.length;
  while (end > start && isStubWhitespace(t.charCodeAt(end - 1))) end--;
  let out = '';
  for (let i = start; i < end; i++) out += isStubWhitespace(t.charCodeAt(i)) ? ' ' : t[i];
  return out;
};

const UINT_MAX = 0xffffffffn;
const U64_MAX = 0xffffffffffffffffn;

/** parse_number16: at least one decimal digit, no uint64 overflow; returns the value and where parsing stopped. */
const parseNumber = (s: string, from: number): { value: bigint; tail: number } | undefined => {
  let i = from;
  let u = 0n;
  while (i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) {
    u = u * 10n + BigInt(s.charCodeAt(i) - 0x30);
    if (u > U64_MAX) return undefined;
    i++;
  }
  return i === from ? undefined : { value: u, tail: i };
};

/**
 * parse_profile_from_cmdline: `@<decimal>` at the very start, followed by exactly one space (removed) or the
 * end of the string, selects a profile (at most UINT_MAX). Anything else: profile 0, text untouched.
 */
export const splitProfilePrefix = (s: string): { profile: number; rest: string; prefixed: boolean } => {
  if (s[0] !== '@') return { profile: 0, rest: s, prefixed: false };
  const n = parseNumber(s, 1);
  if (!n || n.value > UINT_MAX) return { profile: 0, rest: s, prefixed: false };
  // The string ends at its first NUL, as a char16_t string does.
  const next = n.tail < s.length ? s.charCodeAt(n.tail) : 0;
  if (next === 0x20) return { profile: Number(n.value), rest: s.slice(n.tail + 1), prefixed: true };
  if (next === 0) return { profile: Number(n.value), rest: s.slice(n.tail), prefixed: true };
  return { profile: 0, rest: s, prefixed: false };
};

/** parse_profile_from_argument (EFI shell argv[1]): `@<decimal>`, the rest of the argument ignored. */
export const profileFromArgument = (arg: string): number | undefined => {
  if (arg[0] !== '@') return undefined;
  const n = parseNumber(arg, 1);
  return n && n.value <= UINT_MAX ? Number(n.value) : undefined;
};

/**
 * strneq8(uki_uname, addon_section, addon_size): strncmp over the addon's section size, so an addon `.uname`
 * without a NUL matches any UKI `.uname` it is a prefix of (the UKI's string ends at its first NUL).
 */
export const unameMatches = (ukiUname: Uint8Array, addonSection: Uint8Array): boolean => {
  const a = cString(ukiUname);
  for (let i = 0; i < addonSection.length; i++) {
    const x = i < a.length ? a[i]! : 0;
    const y = addonSection[i]!;
    if (x !== y) return false;
    if (x === 0) return true;
  }
  return true;
};

/** UCS-2 string to the UTF-8 bytes the kernel's EFI stub makes of it (no surrogates can occur). */
export const ucs2ToUtf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
