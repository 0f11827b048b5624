// One run reads images/catalog.yaml once and resolves each artifact once, then works from the
// plan: the pre-flight resolves, the lab only consumes. The run here goes as far as QEMU's disk
// (a stand-in image that is no qcow2), fails there, and leaves nothing behind.
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliContext } from '../lab/cli/context.js';
import { loadPlan } from '../lab/run/plan.js';
import { runScenario } from '../lab/run/runner.js';
import { importImage } from '../lab/images/fetch.js';
import { counters } from '../lab/util/counters.js';
import { tempTree } from './helpers/files.js';
import { leftoverDirs } from './helpers/lab.js';

test.serial('a run of the Flatcar variant reads the catalog once and resolves etcd once', async (t) => {
  const cache = tempTree({ 'artifacts/etcd': '#!/bin/sh\n', 'artifacts/etcdctl': '#!/bin/sh\n', 'flatcar_production_qemu_image.img': 'not a qcow2' });
  const env = { CORELAB_CACHE: cache.dir, CORELAB_ACCEL: 'tcg', CORELAB_CHECKPOINTS: join(cache.dir, 'cp'), CORELAB_STATE: join(cache.dir, 'state') };
  Object.assign(process.env, env);
  t.teardown(() => {
    for (const k of Object.keys(env)) delete process.env[k];
    cache.remove();
  });
  await importImage('flatcar-stable', join(cache.dir, 'flatcar_production_qemu_image.img'), { offline: true, allowUnverified: true });
  for (const k of Object.keys(counters)) delete counters[k];

  const ctx = new CliContext(new AbortController().signal);
  const plans = ['scenarios/etcd-discovery/flatcar.yaml', 'scenarios/etcd-discovery/flatcar.yaml'].map((p) => loadPlan(p, { catalog: ctx.catalog }));
  const r = await runScenario(plans[0], { catalog: ctx.catalog, artifactsDir: join(cache.dir, 'artifacts'), allowUnverified: true });
  t.is(r.status, 'error', 'the stand-in image cannot boot');
  t.regex(r.error ?? '', /qemu-img|qcow2|backing/i);
  t.is(counters['catalog read'], 1, 'images/catalog.yaml is read once for the whole command');
  t.is(counters['artifact resolved'], 1, 'the etcd artifact is resolved once, by the pre-flight');
  t.deepEqual(leftoverDirs('etcd-discovery-flatcar'), []);
  writeFileSync(join(cache.dir, 'done'), '');
});
