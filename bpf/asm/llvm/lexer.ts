/**
 * Tokens of one line of pseudo-C assembly, each with its 1-based column. The signed operators
 * (`s>`, `s>=`, `s<`, `s<=`, `s>>=`, `s/=`, `s%=`) are single tokens.
 */

export type TokenKind = 'ident' | 'num' | 'punct';

export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** 1-based column in the source line. */
  readonly col: number;
}

/** A character the lexer does not know; reported by the caller as a diagnostic. */
export interface LexProblem {
  readonly col: number;
  readonly message: string;
}

// Longest first, so `<<=` wins over `<<` and `<=`.
const PUNCT = [
  '<<=',
  '>>=',
  '+=',
  '-=',
  '*=',
  '/=',
  '|=',
  '&=',
  '%=',
  '^=',
  '==',
  '!=',
  '>=',
  '<=',
  '=',
  '>',
  '<',
  '&',
  '(',
  ')',
  '[',
  ']',
  '*',
  '+',
  '-',
  ',',
  ':',
];
const SIGNED_SUFFIX = new Set(['>', '>=', '<', '<=', '>>=', '/=', '%=']);

const isIdentStart = (c: string): boolean => /[A-Za-z_.$]/.test(c);
const isIdentChar = (c: string): boolean => /[A-Za-z0-9_.$]/.test(c);

/** Splits `text` (one line, comments already removed) starting at 0-based index `from`. */
export const lex = (text: string, from = 0): { tokens: Token[]; problems: LexProblem[] } => {
  const tokens: Token[] = [];
  const problems: LexProblem[] = [];
  let i = from;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    const col = i + 1;
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < text.length && isIdentChar(text[j] as string)) j++;
      const word = text.slice(i, j);
      // `s>=` and friends: a lone `s` glued to a comparison or assignment operator.
      const op = word === 's' ? PUNCT.find((p) => text.startsWith(p, j)) : undefined;
      if (op !== undefined && SIGNED_SUFFIX.has(op)) {
        tokens.push({ kind: 'punct', text: `s${op}`, col });
        i = j + op.length;
      } else {
        tokens.push({ kind: 'ident', text: word, col });
        i = j;
      }
      continue;
    }
    if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < text.length && /[0-9A-Za-z_]/.test(text[j] as string)) j++;
      tokens.push({ kind: 'num', text: text.slice(i, j), col });
      i = j;
      continue;
    }
    const p = PUNCT.find((q) => text.startsWith(q, i));
    if (p === undefined) {
      problems.push({ col, message: `unexpected character '${c}'` });
      i++;
      continue;
    }
    tokens.push({ kind: 'punct', text: p, col });
    i += p.length;
  }
  return { tokens, problems };
};
