// The catalog's ignition_spec key: labos's Ignition reads spec 3.x only, Flatcar's reads 2.x.
import test from 'ava';
import { join } from 'node:path';
import { loadCatalog } from '../lab/images/catalog.js';
import { FileProblems } from '../lab/scenario/yamlsource.js';
import { tempTree } from './helpers/files.js';

test('labos takes a cloud-config on cidata first, and Ignition by fw_cfg with ignition_spec 3; Flatcar is unchanged', (t) => {
  const catalog = loadCatalog();
  const labos = catalog.get('labos')!;
  t.deepEqual(labos.config, ['cidata', 'config-2', 'ignition-fw_cfg']);
  t.is(labos.fwCfgName, 'opt/com.coreos/config');
  t.is(labos.ignitionSpec, 3);
  for (const name of ['flatcar-stable', 'flatcar-3815.2.5']) {
    const f = catalog.get(name)!;
    t.is(f.ignitionSpec, undefined, name);
    t.deepEqual(f.config, ['ignition-fw_cfg', 'config-2'], name);
    t.is(f.fwCfgName, 'opt/org.flatcar-linux/config', name);
  }
});

const entry = (extra: string) => `images:
  x:
    description: a test image
    build: labos
    format: qcow2
    boot: kernel
    user: core
    memory: 1024
${extra}`;

function problems(t: import('ava').ExecutionContext, yaml: string): string {
  const tree = tempTree({ 'catalog.yaml': yaml });
  t.teardown(tree.remove);
  const err = t.throws(() => loadCatalog(join(tree.dir, 'catalog.yaml')), { instanceOf: FileProblems });
  return err!.format();
}

test('ignition_spec takes only 3, and only with ignition-fw_cfg', (t) => {
  t.regex(problems(t, entry('    config: [ignition-fw_cfg]\n    fw_cfg_name: opt/com.coreos/config\n    ignition_spec: 2\n')), /catalog\.yaml:11:20: x\.ignition_spec must be 3/);
  t.regex(problems(t, entry('    config: [ignition-fw_cfg]\n    fw_cfg_name: opt/com.coreos/config\n    ignition_spec: "3"\n')), /x\.ignition_spec must be 3/);
  t.regex(problems(t, entry('    config: [cidata]\n    ignition_spec: 3\n')), /catalog\.yaml:10:20: x\.ignition_spec is set but x\.config has no ignition-fw_cfg\n {2}fix: add ignition-fw_cfg/);
  t.regex(problems(t, entry('    config: [cidata]\n    ignition_specs: 3\n')), /unknown key "ignition_specs".*\n {2}fix: did you mean "ignition_spec"\?/);
  const tree = tempTree({ 'catalog.yaml': entry('    config: [ignition-fw_cfg]\n    fw_cfg_name: opt/com.coreos/config\n    ignition_spec: 3\n') });
  t.teardown(tree.remove);
  t.is(loadCatalog(join(tree.dir, 'catalog.yaml')).get('x')!.ignitionSpec, 3);
});
