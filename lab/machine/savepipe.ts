/**
 * A save's memory stream, from QEMU's exec: migration to a compressed file and its digest
 * (Machine.saveTo).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { LabError } from '../util/errors.js';
import { NotYet, waitUntil } from '../util/poll.js';
import { shellQuote } from '../util/text.js';

/**
 * The shell command a save's migration stream goes to: zstd into `stateFile`, digested on the way
 * (tee | sha256sum), the digest written last into `sumFile` as the sign that all is on disk. QEMU
 * ends the command's shell once it has sent the stream (SIGTERM, then SIGKILL 10 ms later, io/
 * channel-command.c), maybe before zstd has written its last block: a pipeline outlives its shell,
 * so nothing in it is cut short, and the lab waits for `sumFile` instead of for the shell.
 */
export function saveCommand(stateFile: string, sumFile: string): string {
  const part = `${sumFile}.part`;
  return `zstd -1 -q -T1 | tee ${shellQuote(stateFile)} | { sha256sum > ${shellQuote(part)} && mv ${shellQuote(part)} ${shellQuote(sumFile)}; }`;
}

/** Waits for a save pipe's digest file (saveCommand), and returns the digest; the file goes. */
export async function waitForDigest(sumFile: string, what: string, timeoutMs = 120_000): Promise<string> {
  let digest = '';
  await waitUntil(`${what}: the memory stream written and digested (${sumFile})`, async () => {
    if (!existsSync(sumFile)) throw new NotYet('no digest file yet: the pipe is still writing');
    digest = readFileSync(sumFile, 'utf8').slice(0, 64);
  }, { timeoutMs, intervalMs: 50 });
  rmSync(sumFile, { force: true });
  if (!/^[0-9a-f]{64}$/.test(digest)) throw new LabError(`${what}: the memory stream's digest is not a sha256: "${digest}"`);
  return digest;
}
