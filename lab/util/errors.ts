/** An error a user can act on: what went wrong, where, and how to fix it. */
export class LabError extends Error {
  readonly fix?: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;

  constructor(message: string, opts: { fix?: string; file?: string; line?: number; column?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'LabError';
    this.fix = opts.fix;
    this.file = opts.file;
    this.line = opts.line;
    this.column = opts.column;
  }

  /** "file:line:col: message\n  fix: ..." — the form every user-facing error is printed in. */
  format(): string {
    let where = '';
    if (this.file) {
      where = this.file;
      if (this.line) where += `:${this.line}`;
      if (this.line && this.column) where += `:${this.column}`;
      where += ': ';
    }
    return `${where}${this.message}${this.fix ? `\n  fix: ${this.fix}` : ''}`;
  }
}

export function formatError(err: unknown): string {
  if (err instanceof LabError) return err.format();
  if (err instanceof Error) return err.stack ?? err.message;
  return String(err);
}
