/**
 * Nested, timed log lines on stderr (in the manner of the NixOS test driver):
 *   [  12.3s] ==> boot node00
 *   [  45.1s]     node00: SSH is up
 *   [  45.1s] <== boot node00 (32.8s)
 */
const start = Date.now();
let depth = 0;
let sink: (line: string) => void = (line) => process.stderr.write(line + '\n');

export function setLogSink(fn: (line: string) => void): void {
  sink = fn;
}

function stamp(): string {
  return `[${((Date.now() - start) / 1000).toFixed(1).padStart(6)}s]`;
}

export function log(message: string): void {
  for (const line of message.split('\n')) sink(`${stamp()} ${'    '.repeat(depth)}${line}`);
}

export function warn(message: string): void {
  log(`warning: ${message}`);
}

/** Runs fn inside a named section; logs its start, end and duration, also when it throws. */
export async function section<T>(name: string, fn: () => Promise<T>): Promise<T> {
  log(`==> ${name}`);
  depth++;
  const t0 = Date.now();
  try {
    const result = await fn();
    depth--;
    log(`<== ${name} (${seconds(Date.now() - t0)})`);
    return result;
  } catch (err) {
    depth--;
    log(`<== ${name} failed (${seconds(Date.now() - t0)})`);
    throw err;
  }
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
