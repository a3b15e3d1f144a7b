/** Assembler diagnostics: every problem of a source text, each with its 1-based line and column. */

export interface AsmDiagnostic {
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

export class AsmError extends Error {
  override readonly name = 'AsmError';
  readonly diagnostics: readonly AsmDiagnostic[];
  readonly file: string | undefined;
  constructor(diagnostics: readonly AsmDiagnostic[], file?: string) {
    const where = file ?? '<input>';
    super(diagnostics.map((d) => `${where}:${d.line}:${d.col}: ${d.message}`).join('\n'));
    this.diagnostics = diagnostics;
    this.file = file;
  }
}
