import test from 'ava';
import { tcgAccelArg, tcgThreads } from '../lab/machine/accel.js';
import { Machine } from '../lab/machine/machine.js';
import { labCpus, labTcgThreads } from '../lab/cluster/node.js';
import type { Plan } from '../lab/cluster/plan.js';

const lab = (accel: 'kvm' | 'tcg', cpus: number[]) => ({ accel, nodes: cpus.map((c) => ({ cpus: c })) }) as unknown as Plan;

test.serial('TCG: a lab with more vCPUs than host cores runs each VM on one host thread, one that fits keeps a thread per vCPU', (t) => {
  delete process.env.CORELAB_TCG_THREAD;
  t.is(tcgThreads(6, 2), 'single');
  t.is(tcgThreads(3, 2), 'single');
  t.is(tcgThreads(2, 2), 'multi');
  t.is(tcgThreads(1, 2), 'multi');
  t.is(tcgThreads(8, 8), 'multi');
  t.is(labTcgThreads(lab('tcg', [2, 2, 2])), tcgThreads(6));
  t.is(labTcgThreads(lab('tcg', [2])), tcgThreads(2));
  t.is(labTcgThreads(lab('kvm', [2, 2, 2])), undefined, 'KVM has no TCG threads');
  t.is(labCpus(lab('tcg', [2, 2, 1])), 5);
});

test.serial('TCG: CORELAB_TCG_THREAD overrides the choice, and anything else in it is ignored', (t) => {
  try {
    process.env.CORELAB_TCG_THREAD = 'multi';
    t.is(tcgThreads(6, 2), 'multi');
    process.env.CORELAB_TCG_THREAD = 'single';
    t.is(tcgThreads(1, 2), 'single');
    process.env.CORELAB_TCG_THREAD = 'fast';
    t.is(tcgThreads(6, 2), 'single');
    t.is(tcgThreads(2, 2), 'multi');
  } finally {
    delete process.env.CORELAB_TCG_THREAD;
  }
});

test('TCG: the thread mode reaches QEMU as -accel tcg,...,thread=single; KVM ignores it', (t) => {
  t.is(tcgAccelArg(), 'tcg,tb-size=256');
  t.is(tcgAccelArg('multi'), 'tcg,tb-size=256');
  t.is(tcgAccelArg('single'), 'tcg,tb-size=256,thread=single');
  const spec = { name: 'n', dir: '/lab/n', boot: { image: 'x', disk: { base: '/i.qcow2' } }, memoryMb: 512, cpus: 2, netArgs: [] } as unknown as ConstructorParameters<typeof Machine>[0];
  const accelOf = (m: Machine) => { const a = m.qemuArgs(); return a.slice(a.indexOf('-accel'), a.indexOf('-accel') + 4); };
  t.deepEqual(accelOf(new Machine({ ...spec, accel: 'tcg', tcgThreads: 'single' })), ['-accel', 'tcg,tb-size=256,thread=single', '-m', '512']);
  t.deepEqual(accelOf(new Machine({ ...spec, accel: 'tcg' })), ['-accel', 'tcg,tb-size=256', '-m', '512']);
  t.deepEqual(accelOf(new Machine({ ...spec, accel: 'kvm', tcgThreads: 'single' })), ['-accel', 'kvm', '-cpu', 'host']);
});
