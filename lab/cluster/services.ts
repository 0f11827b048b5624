import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DiscoveryService } from '../host/discovery.js';
import { Registry } from '../host/registry.js';
import { Switch } from '../host/switch.js';
import { FileService } from '../host/files.js';
import { rancherFiles, rancherVars } from '../host/rancherfiles.js';
import { mirrorPath } from '../images/containerarchive.js';
import { ensureNginxImage } from '../images/containerimage.js';
import { buildIso } from '../guestconfig/configdrive.js';
import type { ResolvedArtifact } from '../images/artifacts.js';
import type { Vars } from '../util/template.js';
import { log } from '../util/log.js';
import type { Teardown } from './teardown.js';
import type { Plan } from './plan.js';

/** The host side of a lab: discovery etcd, registry mirror, the switch, each on the teardown chain. */
export interface HostServices {
  discovery?: DiscoveryService;
  registry?: Registry;
  /** RancherOS's releases.yml and os-services files (scenario key rancher:). */
  files?: FileService;
  switch: Switch;
}

/**
 * Starts what the plan asks for. Fresh (no `from`): a new discovery token and a seeded registry,
 * with their variables set in vars. From a checkpoint: on copies of its saved data.
 */
export async function startServices(plan: Plan, dir: string, teardown: Teardown, vars: Vars, from?: { discovery: string; registry: string }, signal?: AbortSignal): Promise<HostServices> {
  const out: Partial<HostServices> = {};
  if (plan.discovery) {
    const d = await DiscoveryService.start(dir, from?.discovery);
    teardown.push('stop the discovery service', () => d.stop());
    out.discovery = d;
    if (!from) {
      vars['discovery.endpoint'] = d.guestUrl;
      vars['discovery.url'] = await d.newToken(plan.discovery.size);
    }
    log(`discovery: etcd on 127.0.0.1:${d.etcdPort}${from ? " with the checkpoint's data" : `, guests use ${vars['discovery.url']}`}`);
  }
  if (plan.registry) {
    const r = await Registry.start(dir, from?.registry);
    teardown.push('stop the registry mirror', () => r.stop());
    out.registry = r;
    if (!from) {
      for (const image of plan.registry.images) await r.seed(await ensureNginxImage({ signal }), `library/${image}`, 'latest');
      for (const c of plan.containers ?? []) await r.seed(c.oci, mirrorPath(c.ref).repo, mirrorPath(c.ref).tag);
      vars['registry.url'] = r.guestUrl;
      vars['registry.host'] = new URL(r.guestUrl).host;
    }
    log(`registry mirror on 127.0.0.1:${r.port}${from ? " with the checkpoint's storage" : ` with ${[...plan.registry.images, ...(plan.containers ?? []).map((c) => c.ref)].join(', ') || 'nothing'}; guests use ${r.guestUrl}`}`);
  }
  if (plan.rancher) {
    // Stateless: the same files on a restore; the variables were saved with the checkpoint.
    const f = await FileService.start(rancherFiles(plan.rancher));
    teardown.push('stop the file service', () => f.stop());
    out.files = f;
    if (!from) Object.assign(vars, rancherVars(f.guestUrl));
    log(`file service on 127.0.0.1:${f.port}: ${f.paths.length} RancherOS files, guests use ${f.guestUrl}`);
  }
  const sw = await Switch.start(dir);
  teardown.push('stop the lab switch', () => sw.stop());
  return { ...out, switch: sw };
}

/** One read-only ISO for every node, labelled "artifacts": labos installs its bin/ into /opt/bin. */
export async function artifactsDrive(artifacts: ResolvedArtifact[], dir: string): Promise<string | undefined> {
  if (!artifacts.length) return undefined;
  const files: Record<string, string | Buffer> = {};
  for (const a of artifacts) for (const [name, path] of Object.entries(a.binaries)) files[`bin/${name}`] = readFileSync(path);
  const iso = join(dir, 'artifacts.iso');
  await buildIso(iso, 'artifacts', files);
  log(`artifacts drive: ${artifacts.map((a) => `${a.spec.name} ${a.version ?? a.spec.version} from ${a.source}`).join(', ')}`);
  return iso;
}
