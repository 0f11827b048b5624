import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAnalyze, parseBlame, parseCloudInitLog, parseConsole, parseSpan, parseUnitTimes, splitSections } from '../lab/cluster/bootparse.js';
import { buildProfile, readBootProfile } from '../lab/cluster/bootprofile.js';

// Captured from a real labos VM (node bin/corelab.js up, then corelab ssh NODE with PROFILE_COMMAND).
const dir = join(import.meta.dirname, 'fixtures', 'captured');
const output = readFileSync(join(dir, 'boot-profile.txt'), 'utf8');
const consoleLog = readFileSync(join(dir, 'boot-console.txt'), 'utf8');

test('systemd time spans', (t) => {
  t.is(parseSpan('1min 2.345s'), 62_345);
  t.is(parseSpan('345ms'), 345);
  t.is(parseSpan('2.1s'), 2100);
  t.is(parseSpan('1h 2min'), 3_720_000);
  t.is(parseSpan('nothing'), undefined);
});

test('systemd-analyze: kernel and userspace, the target, or the note when booting is not finished', (t) => {
  const a = parseAnalyze(splitSections(output).analyze);
  t.true(a.kernelMs! > 1000 && a.userspaceMs! > 1000, JSON.stringify(a));
  t.is(a.totalMs, a.kernelMs! + a.userspaceMs!, 'total = kernel + userspace (rounded spans)');
  t.regex(a.target?.name ?? '', /^(multi-user|graphical)\.target$/);
  t.deepEqual(parseAnalyze('Startup finished in 1.5s (firmware) + 2s (loader) + 812ms (kernel) + 3.1s (initrd) + 1min 2s (userspace) = 1min 9.412s\n'), { firmwareMs: 1500, loaderMs: 2000, kernelMs: 812, initrdMs: 3100, userspaceMs: 62_000, totalMs: 69_412 });
  t.regex(parseAnalyze('Bootup is not yet finished (org.freedesktop.systemd1.Manager.FinishTimestampMonotonic=0).\nPlease try again later.\n').note!, /not yet finished/);
});

test('blame: the slowest units first, at most the number asked', (t) => {
  const b = parseBlame(splitSections(output).blame, 8);
  t.true(b.length > 3 && b.length <= 8);
  t.true(b.every((x, i) => i === 0 || b[i - 1].ms >= x.ms));
  t.true(b.every((x) => /\.(service|mount|socket|device|target|timer|scope|slice)$/.test(x.unit)), JSON.stringify(b));
  t.deepEqual(parseBlame('1min 2.1s a.service\n  800ms b.service\nnot a line\n'), [{ unit: 'a.service', ms: 62_100 }, { unit: 'b.service', ms: 800 }]);
});

test('unit timestamps: start and active in ms since boot; 0 means never', (t) => {
  const u = parseUnitTimes(splitSections(output).units);
  t.true(u['multi-user.target'].activeMs! > 1000);
  t.true(u['cloud-init-local.service'].startMs! < u['cloud-init.service'].startMs!);
  t.deepEqual(parseUnitTimes('Id=x.service\nInactiveExitTimestampMonotonic=0\nActiveEnterTimestampMonotonic=2500000\n'), { 'x.service': { startMs: undefined, activeMs: 2500 } });
});

test("cloud-init's stages and modules from its log", (t) => {
  const ci = parseCloudInitLog(splitSections(output).cloudinit);
  t.true(ci.stages.some((s) => s.name === 'init-local') && ci.stages.some((s) => s.name === 'init-network'), JSON.stringify(ci.stages));
  t.true(ci.modules.length > 3);
  t.true(ci.modules.every((x, i) => i === 0 || ci.modules[i - 1].ms >= x.ms));
  const log = '2026-01-01 10:00:00,100 - handlers.py[DEBUG]: start: init-network: searching\n2026-01-01 10:00:01,600 - handlers.py[DEBUG]: start: init-network/config-ssh: running config-ssh\n2026-01-01 10:00:02,100 - handlers.py[DEBUG]: finish: init-network/config-ssh: SUCCESS: config-ssh ran\n2026-01-01 10:00:03,000 - handlers.py[DEBUG]: finish: init-network: SUCCESS: done\n';
  t.deepEqual(parseCloudInitLog(log), { stages: [{ name: 'init-network', ms: 2900, result: 'SUCCESS' }], modules: [{ name: 'init-network/config-ssh', ms: 500, result: 'SUCCESS' }] });
});

test('console stamps: kernel, /init, root mounted, systemd; of the last boot in the log', (t) => {
  const c = parseConsole(consoleLog);
  t.is(c.kernelMs, 0);
  t.true(c.initMs! > 500 && c.initMs! < c.rootMs! && c.rootMs! < c.systemdMs!, JSON.stringify(c));
  const again = consoleLog + consoleLog.replace(/\[\s*(\d+)\.(\d+)\]/g, (_m, s, f) => `[${String(Number(s) + 1000).padStart(5)}.${f}]`);
  t.is(parseConsole(again).initMs, c.initMs! + 1_000_000, 'a power-on appends to the log: the last boot counts');
  t.deepEqual(parseConsole('no kernel here\n'), {});
});

test('the profile: phases in order, QEMU-to-kernel from the uptime, nothing invented', (t) => {
  const uptimeMs = Number(splitSections(output).uptime.trim()) * 1000;
  const p = buildProfile(output, consoleLog, uptimeMs + 1500);
  t.is(p.preKernelMs, 1500);
  t.true(p.systemdMs! < p.multiUserMs! && p.sshdMs! < p.multiUserMs!, JSON.stringify(p));
  t.true(p.cloudInit.length >= 2 && p.cloudInit.every((c) => c.endMs >= c.startMs));
  t.true(p.blame.length > 0 && p.cloudInitStages.length > 0);
  t.deepEqual(p.errors, []);
  const empty = buildProfile('', '');
  t.deepEqual(empty.errors, ['no guest uptime', 'no kernel stamps on the console']);
  t.is(empty.multiUserMs, undefined);
});

test('reading a profile never throws: a failed command and a missing console are recorded', async (t) => {
  const p = await readBootProfile({ run: () => Promise.reject(new Error('connection refused')), consoleLog: '/nonexistent/console.log', startedAt: Date.now() });
  t.is(p.errors[0], 'connection refused');
  const q = await readBootProfile({ run: async (command) => ({ node: 'n', command, stdout: '', stderr: '', exitCode: null, durationMs: 1, error: 'n is off' }), consoleLog: join(dir, 'boot-console.txt'), startedAt: Date.now() });
  t.is(q.errors[0], 'n is off');
  t.true(q.initMs! > 0, 'the console is still read');
});
