/**
 * Nested, timed log lines on stderr (in the manner of the NixOS test driver):
 *   [  12.3s] ==> boot node00
 *   [  45.1s]     node00: SSH is up
 *   [  45.1s] <== boot node00 (32.8s)
 */
const start = Date.now();
let depth = 0;
const sink = (line: string): void => {
  clearStatus();
  process.stderr.write(line + '\n');
  drawStatus();
};

/**
 * On a terminal, one live line under the log says what the lab is waiting for and for how long
 * (redrawn every second); elsewhere the periodic "still ..." log lines say it.
 */
let status: (() => string) | undefined;
let statusTimer: NodeJS.Timeout | undefined;
const tty = !!process.stderr.isTTY && process.env.TERM !== 'dumb';

export function liveStatus(fn: (() => string) | undefined): void {
  status = fn;
  if (!tty) return;
  if (fn && !statusTimer) {
    statusTimer = setInterval(drawStatus, 1000);
    statusTimer.unref();
  }
  if (!fn) {
    clearInterval(statusTimer);
    statusTimer = undefined;
    clearStatus();
  } else drawStatus();
}

function drawStatus(): void {
  if (!tty || !status) return;
  const width = (process.stderr.columns || 100) - 1;
  process.stderr.write(`\r\x1b[2K\x1b[2m${status().replace(/\s+/g, ' ').slice(0, width)}\x1b[0m`);
}

function clearStatus(): void {
  if (tty && status) process.stderr.write('\r\x1b[2K');
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
