/**
 * bpf_trace_printk(fmt, fmt_size, a1, a2, a3) (6) with the kernel's format checks
 * (bpf_bprintf_prepare): the format must be NUL-terminated within fmt_size and printable; at most three
 * arguments; conversions %d %i %u %x %X (with l / ll), %c, %s, %p/%px/%pK, %% and the flags/width field
 * "[0 +-][num]"; anything else -EINVAL. Returns the length of the formatted text (bstr_printf's count,
 * even past the buffer); the trace pipe gets at most MAX_BPRINTF_BUF - 1 bytes of it.
 * Not modelled: the %pi4/%pI6/%pks/%pus families (-EINVAL here, accepted by Linux); %p prints the raw
 * address (Linux prints a hashed one).
 */
import { E } from '../../bpf/abi/index.ts';
import type { HelperEnv, Memory } from '../vm/index.ts';
import { argU32, readCString } from './args.ts';

const MAX_BPRINTF_BUF = 1024;
const MAX_ARGS = 3;

const isPrintable = (c: number): boolean => (c >= 0x20 && c < 0x7f) || (c >= 0x09 && c <= 0x0d);

interface Spec {
  flags: string;
  width: number;
  conv: string;
  long: 0 | 1 | 2;
}

const pad = (s: string, spec: Spec, numeric: boolean): string => {
  if (s.length >= spec.width) return s;
  if (spec.flags.includes('-')) return s.padEnd(spec.width, ' ');
  if (numeric && spec.flags.includes('0')) {
    const sign = /^[-+ ]/.test(s) ? (s[0] as string) : '';
    return sign + s.slice(sign.length).padStart(spec.width - sign.length, '0');
  }
  return s.padStart(spec.width, ' ');
};

const formatInt = (v: bigint, spec: Spec): string => {
  const bits = spec.long === 0 ? 32 : 64;
  const signed = spec.conv === 'd' || spec.conv === 'i';
  const n = signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v);
  let s = spec.conv === 'x' ? n.toString(16) : spec.conv === 'X' ? n.toString(16).toUpperCase() : n.toString();
  if (signed && n >= 0n) s = spec.flags.includes('+') ? `+${s}` : spec.flags.includes(' ') ? ` ${s}` : s;
  return pad(s, spec, true);
};

/** The formatted text, or -errno. */
export const formatTracePrintk = (memory: Memory, fmt: string, args: readonly bigint[]): string | number => {
  let out = '';
  let used = 0;
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i] as string;
    if (!isPrintable(c.charCodeAt(0))) return -E.EINVAL;
    if (c !== '%') {
      out += c;
      continue;
    }
    if (fmt[i + 1] === '%') {
      out += '%';
      i++;
      continue;
    }
    if (used === MAX_ARGS) return -E.EINVAL;
    const arg = args[used++] as bigint;
    const m = /^([0 +-]*)([1-9][0-9]*)?/.exec(fmt.slice(i + 1)) as RegExpExecArray;
    i += 1 + m[0].length;
    const spec: Spec = { flags: m[1] ?? '', width: Number(m[2] ?? 0), conv: '', long: 0 };
    const at = fmt[i];
    if (at === 'p') {
      const ext = fmt[i + 1];
      if (ext === 'x' || ext === 'K') i++;
      else if (ext !== undefined && /[a-zA-Z0-9]/.test(ext)) return -E.EINVAL;
      out += pad(`0x${BigInt.asUintN(64, arg).toString(16)}`, spec, false);
      continue;
    }
    if (at === 's') {
      // a string that cannot be read prints as empty, as the kernel's copy fallback does
      out += pad(readCString(memory, arg, MAX_BPRINTF_BUF) ?? '', spec, false);
      continue;
    }
    if (at === 'c') {
      out += pad(String.fromCharCode(Number(arg & 0xffn)), spec, false);
      continue;
    }
    if (fmt[i] === 'l') {
      spec.long = 1;
      i++;
      if (fmt[i] === 'l') {
        spec.long = 2;
        i++;
      }
    }
    const conv = fmt[i];
    if (conv !== 'd' && conv !== 'i' && conv !== 'u' && conv !== 'x' && conv !== 'X') return -E.EINVAL;
    spec.conv = conv;
    out += formatInt(arg, spec);
  }
  return out;
};

/** What reaches the trace pipe of a formatted text. */
export const traceLine = (text: string): string => text.slice(0, MAX_BPRINTF_BUF - 1);

/** The helper body: reads fmt/fmt_size and R3–R5; returns the text or -errno. */
export const tracePrintk = (env: HelperEnv): string | number => {
  const size = argU32(env, 2);
  if (size === 0) return -E.EINVAL;
  const raw = env.memory.slice(env.arg(1), size);
  const nul = raw.indexOf(0);
  if (nul < 0) return -E.EINVAL;
  const fmt = readCString(env.memory, env.arg(1), nul + 1) as string;
  return formatTracePrintk(env.memory, fmt, [env.arg(3), env.arg(4), env.arg(5)]);
};
