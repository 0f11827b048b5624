import pRetry, { AbortError } from 'p-retry';
import { LabError } from './errors.js';
import { indent } from './text.js';

/** Thrown by an attempt that should be tried again; carries what it saw, for the final error. */
export class NotYet extends Error {
  constructor(readonly detail: string) {
    super(detail);
    this.name = 'NotYet';
  }
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs: number;
  signal?: AbortSignal;
}

/**
 * The one retry helper: calls attempt until it returns, or throws something other than NotYet,
 * or timeoutMs have passed; then fails with the last thing the attempt saw.
 */
export async function waitUntil<T>(what: string, attempt: () => Promise<T>, opts: WaitOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let last = '';
  let tries = 0;
  try {
    return await pRetry(
      async () => {
        // p-retry only hears an abort that comes while it waits; one that came before is seen here.
        if (opts.signal?.aborted) throw new AbortError(new LabError(`interrupted while waiting for ${what}`));
        tries++;
        try {
          return await attempt();
        } catch (err) {
          if (!(err instanceof NotYet)) throw new AbortError(err as Error);
          last = err.detail;
          if (Date.now() + opts.intervalMs > deadline) throw new AbortError(new TimeoutError(what, opts.timeoutMs, tries, last));
          throw err;
        }
      },
      {
        // p-retry precomputes its delays, so give it a bounded count; the deadline above decides.
        retries: Math.ceil(opts.timeoutMs / Math.max(1, opts.intervalMs)) + 1,
        factor: 1,
        minTimeout: opts.intervalMs,
        maxTimeout: opts.intervalMs,
        randomize: false,
        signal: opts.signal,
      },
    );
  } catch (err) {
    if (opts.signal?.aborted) throw new LabError(`interrupted while waiting for ${what}`);
    if (err instanceof NotYet) throw new TimeoutError(what, opts.timeoutMs, tries, last);
    throw err;
  }
}

export class TimeoutError extends LabError {
  constructor(what: string, timeoutMs: number, readonly tries: number, readonly lastOutput: string) {
    super(`timed out after ${timeoutMs / 1000}s (${tries} tries) waiting for ${what}${lastOutput ? `; last saw:\n${indent(lastOutput)}` : ''}`);
  }
}


export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new LabError('interrupted'));
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new LabError('interrupted'));
    }, { once: true });
  });
}
