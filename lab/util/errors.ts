/**
 * The util layer (lab/util/): what every layer uses and that knows nothing of labs: errors a user
 * can act on (this file), nested timed logs (log.ts), the one poll/retry helper (poll.ts), the one
 * process exit hook (exit.ts), cross-process locks (lock.ts), paths, templates, text and network
 * arithmetic. It imports nothing of lab/.
 */
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

/**
 * A user's error as file:line:col with its fix; an internal fault (a bug of corelab, or a tool
 * failing in a way the lab did not foresee) as such, with its stack and causes only under
 * CORELAB_DEBUG=1.
 */
export function formatError(err: unknown): string {
  const debug = process.env.CORELAB_DEBUG === '1';
  const causes = (e: unknown): string => {
    const c = (e as { cause?: unknown })?.cause;
    return c === undefined ? '' : `\ncaused by: ${c instanceof Error ? (debug ? c.stack : c.message) : String(c)}${causes(c)}`;
  };
  if (err instanceof LabError) return err.format() + (debug ? causes(err) : '');
  const e = err instanceof Error ? err : new Error(String(err));
  return `internal error: ${e.message}${debug ? `\n${e.stack}${causes(e)}` : '\n  (a bug in corelab, or a failure it did not foresee; CORELAB_DEBUG=1 shows the stack)'}`;
}
