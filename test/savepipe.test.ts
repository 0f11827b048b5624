import test from 'ava';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { saveCommand, waitForDigest } from '../lab/machine/savepipe.js';
import { commitCheckpoint, newCheckpointDir } from '../lab/checkpoints/store.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * What QEMU does with an exec: migration (io/channel-command.c): /bin/sh -c COMMAND, the stream
 * on its stdin; at the end it closes the pipe, then SIGTERM to the shell at once and SIGKILL 10 ms
 * later if it has not exited.
 */
async function likeQemu(command: string, data: Buffer): Promise<void> {
  const sh = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'ignore', 'inherit'] });
  await new Promise<void>((resolve, reject) => sh.stdin.end(data, () => resolve()).on('error', reject));
  sh.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 10));
  sh.kill('SIGKILL');
}

test('a save pipe outlives the shell QEMU ends, writes the whole stream, and digests it as written', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'corelab-savepipe-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Guest memory: mostly compressible, some not, 48 MiB (zstd still has blocks to write when the shell goes).
  const data = Buffer.concat([Buffer.alloc(24 << 20, 'labos '), randomBytes(24 << 20)]);
  const state = join(dir, 'state.zst');
  const sum = `${state}.sha256`;
  await likeQemu(saveCommand(state, sum), data);
  const digest = await waitForDigest(sum, 'test', 30_000);
  t.false(existsSync(sum), 'the digest file goes once read');
  t.is(digest, sha256(readFileSync(state)), 'the digest of the file as it is on disk');
  const back = await execa('zstd', ['-dc', state], { encoding: 'buffer' });
  t.true(Buffer.compare(Buffer.from(back.stdout), data) === 0, 'the whole stream, decompressed');
});

test('a path with spaces and quotes is one word to the save pipe', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "corelab-save pipe 'q"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const state = join(dir, "st ate'.zst");
  await likeQemu(saveCommand(state, `${state}.sha256`), Buffer.from('x'.repeat(1000)));
  t.is(await waitForDigest(`${state}.sha256`, 'test', 30_000), sha256(readFileSync(state)));
});

test('no digest file in time is an error naming the save; a digest file that is no sha256 is one too', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'corelab-savepipe-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await t.throwsAsync(waitForDigest(join(dir, 'none.sha256'), 'saving node00', 300), { message: /saving node00: the memory stream written and digested .*none\.sha256.*last saw:\s+no digest file yet/s });
  writeFileSync(join(dir, 'bad.sha256'), 'sha256sum: -: No space left on device\n');
  await t.throwsAsync(waitForDigest(join(dir, 'bad.sha256'), 'saving node00', 300), { message: /saving node00: the memory stream's digest is not a sha256/ });
});

test('a checkpoint takes the digests given for files digested as they were written, and digests the rest', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'corelab-savepipe-'));
  const before = process.env.CORELAB_CHECKPOINTS;
  process.env.CORELAB_CHECKPOINTS = home;
  t.teardown(() => {
    if (before === undefined) delete process.env.CORELAB_CHECKPOINTS;
    else process.env.CORELAB_CHECKPOINTS = before;
    rmSync(home, { recursive: true, force: true });
  });
  const tmp = newCheckpointDir('k1');
  mkdirSync(join(tmp, 'nodes', 'a'), { recursive: true });
  writeFileSync(join(tmp, 'nodes', 'a', 'state.zst'), 'stream');
  writeFileSync(join(tmp, 'id_ed25519'), 'key');
  const given = 'f'.repeat(64);
  const meta = await commitCheckpoint(tmp, {
    key: 'k1', scenario: 's', file: 's.yaml', checkpoint: 'c', afterStep: 0, afterStepName: 'x', createdAt: '', lastUsedAt: '', inputs: {}, accel: 'tcg', labByte: 1, vars: {},
    nodes: [{ name: 'a', state: 'running', hasDisk: false }], services: { discovery: false, registry: false }, artifactsDrive: false, saveSeconds: 1,
  }, { [join(tmp, 'nodes', 'a', 'state.zst')]: given });
  t.is(meta.files['nodes/a/state.zst'].sha256, given, 'taken as given, not read again');
  t.is(meta.files['id_ed25519'].sha256, sha256(Buffer.from('key')));
  t.is(meta.files['nodes/a/state.zst'].size, 6);
});
