import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanStaleLabs, listStates, stateDir, writeState, type LabState } from '../lab/cluster/state.js';
import { stateProblem } from '../lab/cluster/stateguard.js';
import { down } from '../lab/cli/interactive.js';
import { commitCheckpoint, newCheckpointDir } from '../lab/checkpoints/store.js';
import { alive } from '../lab/util/lock.js';

// One private state dir and checkpoint store for this file (its tests are serial: both are in the environment).
const root = mkdtempSync(join(tmpdir(), 'stateguard-'));
process.env.CORELAB_STATE = join(root, 'state');
process.env.CORELAB_CHECKPOINTS = join(root, 'checkpoints');
test.after.always(() => rmSync(root, { recursive: true, force: true }));

/** A pid no process has: a child that already exited. */
const deadPid = spawnSync('true').pid!;

/** A folder that must survive whatever a crafted state file says. */
function victim(): string {
  const d = mkdtempSync(join(tmpdir(), 'victim-'));
  writeFileSync(join(d, 'precious'), 'x');
  return d;
}

function state(name: string, dir: string, extra: Partial<LabState> = {}): LabState {
  return { name, scenario: 's', ownerPid: deadPid, dir, keyFile: join(dir, 'id_ed25519'), ready: true, startedAt: '', nodes: [], ...extra };
}

/** Writes a state file as an attacker would: any name, any content. */
function craft(file: string, content: unknown): string {
  const labs = join(stateDir(), 'labs');
  mkdirSync(labs, { recursive: true });
  const f = join(labs, file);
  writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
  return f;
}

const sleepers: Array<ReturnType<typeof spawn>> = [];
test.after.always(() => sleepers.forEach((c) => c.kill('SIGKILL')));
/** A live process that is neither qemu nor corelab. */
function sleeper(): number {
  const c = spawn('sleep', ['30'], { stdio: 'ignore' });
  sleepers.push(c);
  return c.pid!;
}

test.serial('stateProblem: only entries like the ones corelab writes', (t) => {
  const tmp = tmpdir();
  t.is(stateProblem(state('corelab-ok-abc123', join(tmp, 'corelab-ok-abc123')), 'corelab-ok-abc123'), undefined);
  t.is(stateProblem(state('corelab-ok-abc123', join(tmp, 'corelab-ok-abc123'), { nodes: [{ name: 'n', address: '', user: 'core', sshPort: 2222, guestSshPort: 2345, console: '' }] }), 'corelab-ok-abc123'), undefined);
  const bad: Array<[unknown, string, RegExp]> = [
    [state('../../x', join(tmp, 'corelab-x')), '../../x', /is not a corelab lab name/],
    [state('corelab-a/../../x', join(tmp, 'corelab-x')), 'corelab-a', /is not a corelab lab name/],
    [state('corelab-a', join(tmp, 'corelab-a')), 'corelab-b', /is not its file's name/],
    [state('corelab-etc', '/etc'), 'corelab-etc', /is not the lab folder/],
    [state('corelab-a', `${tmp}/corelab-a/../../etc`), 'corelab-a', /not an absolute, normalized path/],
    [state('corelab-a', 'corelab-a'), 'corelab-a', /not an absolute, normalized path/],
    [state('corelab-a', join(tmp, 'x', 'corelab-a')), 'corelab-a', /is not the lab folder/],
    [state('corelab-a', join(tmp, 'corelab-b')), 'corelab-a', /is not the lab folder/],
    [state('corelab-a', join(tmp, 'corelab-a'), { keyFile: '/root/.ssh/id_rsa' }), 'corelab-a', /key file/],
    [state('corelab-a', join(tmp, 'corelab-a'), { ownerPid: 1 }), 'corelab-a', /owner pid 1 is not/],
    [state('corelab-a', join(tmp, 'corelab-a'), { ownerPid: -1 }), 'corelab-a', /owner pid -1 is not/],
    [state('corelab-a', join(tmp, 'corelab-a'), { nodes: [{ name: 'n', address: '', user: '-oProxyCommand=x', sshPort: 22, console: '' }] }), 'corelab-a', /user/],
    [state('corelab-a', join(tmp, 'corelab-a'), { nodes: [{ name: 'n', address: '', user: 'core', sshPort: 22, qemuPid: 1, console: '' }] }), 'corelab-a', /qemu pid 1/],
    [state('corelab-a', join(tmp, 'corelab-a'), { nodes: [{ name: 'n', address: '', user: 'core', sshPort: 2222, guestSshPort: 0, console: '' }] }), 'corelab-a', /guest ssh port 0 is not a port/],
    [state('corelab-a', join(tmp, 'corelab-a'), { nodes: [{ name: 'n', address: '', user: 'core', sshPort: 2222, guestSshPort: '2345' as unknown as number, console: '' }] }), 'corelab-a', /guest ssh port "2345" is not a port/],
    ['a string', 'corelab-a', /not a JSON object/],
  ];
  for (const [s, base, re] of bad) t.regex(stateProblem(s, base) ?? 'accepted', re, JSON.stringify(s));
});

test.serial('crafted state files of dead labs are ignored: nothing they name is deleted or killed', (t) => {
  const keep = victim();
  t.teardown(() => rmSync(keep, { recursive: true, force: true }));
  const sleeping = sleeper();
  const link = join(tmpdir(), `corelab-link-${process.pid}`);
  symlinkSync(keep, link);
  t.teardown(() => rmSync(link, { force: true }));
  const node = { name: 'n', address: '192.168.0.10', user: 'core', sshPort: 2222, qemuPid: sleeping, console: '' };
  const files = [
    craft('corelab-dotdot.json', state('corelab-dotdot', `${tmpdir()}/corelab-dotdot/../${keep.split('/').pop()}`, { nodes: [node] })),
    craft('corelab-outside.json', state('corelab-outside', keep, { nodes: [node] })),
    craft('corelab-name.json', state('../../../' + keep, keep)),
    craft(`corelab-link-${process.pid}.json`, state(`corelab-link-${process.pid}`, link, { nodes: [node] })),
    craft('corelab-garbage.json', '{ not json'),
  ];
  // A state file that is a symlink to a well-formed one elsewhere.
  const elsewhere = join(root, 'elsewhere.json');
  writeFileSync(elsewhere, JSON.stringify(state('corelab-sym', join(tmpdir(), 'corelab-sym'))));
  symlinkSync(elsewhere, join(stateDir(), 'labs', 'corelab-sym.json'));
  t.deepEqual(listStates(), []);
  t.deepEqual(cleanStaleLabs(), []);
  t.true(existsSync(join(keep, 'precious')), 'the folder a crafted state names is still there');
  t.true(existsSync(link), 'the symlink is not removed either');
  t.true(alive(sleeping), 'the pid a crafted state names is not killed');
  for (const f of files) t.true(existsSync(f), `${f} is left for the user to look at`);
  t.true(existsSync(elsewhere));
});

test.serial('a well-formed state of a dead lab is cleaned; a pid in it that is no qemu of that lab is not killed', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'corelab-stale-'));
  const name = dir.split('/').pop()!;
  const sleeping = sleeper();
  writeState(state(name, dir, { nodes: [{ name: 'n', address: '192.168.0.10', user: 'core', sshPort: 2222, qemuPid: sleeping, console: '' }] }));
  t.deepEqual(listStates().map((s) => s.name).filter((n) => n.startsWith('corelab-stale-')), [name]);
  t.true(cleanStaleLabs().includes(name));
  t.false(existsSync(dir));
  t.true(alive(sleeping));
  t.deepEqual(readdirSync(join(stateDir(), 'labs')).filter((f) => f.startsWith('corelab-stale-')), []);
});

test.serial('down does not signal an owner pid that is not a corelab process', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'corelab-owner-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const sleeping = sleeper();
  const s = state(dir.split('/').pop()!, dir, { ownerPid: sleeping });
  writeState(s);
  await t.throwsAsync(down(s, 1000), { message: /is not a corelab process: not signalling it/ });
  t.true(alive(sleeping));
  t.true(existsSync(dir));
});

test.serial('the state folder and its files are for this user only; so are checkpoints', async (t) => {
  const labs = join(stateDir(), 'labs');
  mkdirSync(labs, { recursive: true });
  chmodSync(labs, 0o755); // as an older corelab made it
  const dir = join(tmpdir(), 'corelab-modes-x');
  writeState(state('corelab-modes-x', dir));
  t.is(statSync(labs).mode & 0o777, 0o700);
  t.is(statSync(join(labs, 'corelab-modes-x.json')).mode & 0o777, 0o600);
  const tmp = newCheckpointDir('k1');
  t.is(statSync(tmp).mode & 0o777, 0o700);
  mkdirSync(join(tmp, 'nodes', 'a'), { recursive: true });
  writeFileSync(join(tmp, 'nodes', 'a', 'state.zst'), 'memory', { mode: 0o644 });
  await commitCheckpoint(tmp, {
    key: 'k1', scenario: 's', file: 'x', checkpoint: 'c', afterStep: 0, afterStepName: 'a', createdAt: '', lastUsedAt: '', inputs: {}, accel: 'tcg', labByte: 1, vars: {},
    nodes: [{ name: 'a', state: 'running', hasDisk: false }], services: { discovery: false, registry: false }, artifactsDrive: false,
  });
  const cp = join(process.env.CORELAB_CHECKPOINTS!, 'k1');
  t.is(statSync(cp).mode & 0o777, 0o700);
  t.is(statSync(join(cp, 'nodes', 'a', 'state.zst')).mode & 0o777, 0o600);
  t.is(statSync(join(cp, 'checkpoint.json')).mode & 0o777, 0o600);
});
