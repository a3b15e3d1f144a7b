/**
 * Splits one source line into tokens with their 1-based columns. Operands are separated by commas
 * and/or whitespace; a bracketed memory operand is one token even if it contains spaces
 * (`[%r10 - 8]` reads as `[%r10-8]`). `#` and `;` start a comment (`;` so that listings that append
 * raw bytes after a semicolon assemble again).
 */

export interface Token {
  readonly text: string;
  /** 1-based column of the token's first character. */
  readonly col: number;
}

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\v' || c === '\f' || c === '\r';

export const tokenize = (line: string): Token[] => {
  const tokens: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i] as string;
    if (c === '#' || c === ';') break;
    if (isSpace(c) || c === ',') {
      i++;
      continue;
    }
    const start = i;
    if (c === '[') {
      // Up to the closing bracket (kept); an unclosed operand ends at a comma or comment.
      while (i < line.length && !']#;,'.includes(line[i] as string)) i++;
      if (line[i] === ']') i++;
      tokens.push({ text: line.slice(start, i).replace(/\s+/g, ''), col: start + 1 });
      continue;
    }
    while (i < line.length) {
      const d = line[i] as string;
      if (isSpace(d) || d === ',' || d === '#' || d === ';') break;
      i++;
    }
    tokens.push({ text: line.slice(start, i), col: start + 1 });
  }
  return tokens;
};
