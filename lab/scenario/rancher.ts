import type { Node } from 'yaml';
import type { YamlSource } from './yamlsource.js';
import { CONTAINER_REF, KEYS } from './schema.js';
import type { RancherFiles, Step } from './model.js';

/** `rancher:`: the releases and engines the host serves RancherOS (lab/host/files.ts). */
export function readRancher(src: YamlSource, node: Node | null): RancherFiles {
  const r = src.map(node, '"rancher"', KEYS.rancher);
  const list = (key: string, ok: RegExp, example: string): string[] => {
    const out: string[] = [];
    for (const item of r.has(key) ? src.seq(r.get(key)!.value, `rancher.${key}`) : []) {
      const v = src.string(item, `an entry of rancher.${key}`) ?? '';
      if (v && !ok.test(v)) src.problem(item, `rancher.${key} entry "${v.slice(0, 80)}" is not of the form ${example}`, `write it as ${example}`);
      else if (v) out.push(v);
    }
    return out;
  };
  const releases = list('releases', CONTAINER_REF, 'rancher/os:v1.5.7');
  if (r.has('releases') && !releases.length) src.problem(r.get('releases')!.value, 'rancher.releases lists no image', 'list at least one, e.g. releases: [rancher/os:v1.5.7, rancher/os:v1.5.8]');
  const engines = list('engines', /^docker-[0-9][0-9A-Za-z.-]{0,40}$/, 'docker-18.09.9');
  let current = releases[releases.length - 1] ?? '';
  if (r.has('current')) {
    const c = src.string(r.get('current')!.value, 'rancher.current') ?? '';
    if (!CONTAINER_REF.test(c)) src.problem(r.get('current')!.value, `rancher.current "${c.slice(0, 80)}" is not an image reference`, 'write it as rancher/os:v1.5.8');
    else current = c;
  }
  return { releases, current, engines };
}

/** A step's `requires:`, as container image references (the "container:" dropped). */
export function readStepRequires(src: YamlSource, node: Node | null): string[] {
  const out: string[] = [];
  for (const item of src.seq(node, 'the step\'s "requires"')) {
    const v = src.string(item, 'a requirement') ?? '';
    const ref = v.startsWith('container:') ? v.slice('container:'.length) : '';
    if (!CONTAINER_REF.test(ref)) src.problem(item, `step requirement "${v.slice(0, 80)}" is not container:REPO:TAG`, 'write it as container:rancher/os:v1.5.7 (an image the registry mirror serves once imported)');
    else out.push(ref);
  }
  return out;
}

/** Steps that need container images need the registry mirror that serves them. */
export function checkStepContainers(src: YamlSource, steps: Step[], registry: boolean, at: Node | null): void {
  const needing = steps.find((s) => s.containers?.length);
  if (needing && !registry) src.problem(at, `step "${needing.name}" requires container images, which only the registry mirror serves, but the scenario has no "registry:"`, 'add "registry: { images: [] }" (or images: [nginx]) at the top level');
}

/** Every container image the scenario's steps require, each once. */
export function requiredContainers(steps: Step[]): string[] {
  return [...new Set(steps.flatMap((s) => s.containers ?? []))];
}
