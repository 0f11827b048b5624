import type { RancherFiles } from '../scenario/model.js';

/**
 * What the lab serves RancherOS instead of its internet URLs (through files.ts), with the
 * variables its cloud-config names them by:
 * - releases.yml, read by `ros os list` and `ros os upgrade` from rancher.upgrade.url
 *   (cmd/control/os.go: `current:` and `available:`, each an image such as rancher/os:v1.5.7);
 * - an os-services repository, read by `ros engine list|switch` from rancher.repositories.*.url
 *   (pkg/util/network: URL/index.yml with `engines:`, and URL/d/ENGINE.yml, the compose service
 *   `docker` that runs rancher/os-docker:VERSION in system-docker, as os-services defines it).
 */
export const RANCHER_PATHS = {
  releases: '/rancher/releases.yml',
  repository: '/rancher/os-services',
} as const;

/** The os-docker image an engine runs: docker-18.09.9 → rancher/os-docker:18.09.9 (the -ce suffix dropped). */
export function osDockerImage(engine: string): string {
  return `rancher/os-docker:${engine.replace(/^docker-/, '').replace(/-ce$/, '')}`;
}

/** The served files by path. */
export function rancherFiles(r: RancherFiles): Record<string, string> {
  const header = '# Served by corelab on the lab host in place of RancherOS\'s internet file.\n';
  const list = (items: string[]) => (items.length ? `\n${items.map((i) => `- ${i}\n`).join('')}` : ' []\n');
  const files: Record<string, string> = {
    [RANCHER_PATHS.releases]: `${header}current: ${r.current}\navailable:${list(r.releases)}`,
    [`${RANCHER_PATHS.repository}/index.yml`]: `${header}services: []\nconsoles: []\nengines:${list(r.engines)}`,
  };
  for (const engine of r.engines) files[`${RANCHER_PATHS.repository}/d/${engine}.yml`] = engineService(engine);
  return files;
}

/** The compose service of an engine, as os-services' d/docker-*.yml define it. */
function engineService(engine: string): string {
  return [
    `# Served by corelab: the user Docker ${engine} of RancherOS, run by system-docker.`,
    'docker:',
    `  image: \${REGISTRY_DOMAIN}/${osDockerImage(engine)}\${SUFFIX}`,
    '  command: ros user-docker',
    '  environment: [HTTP_PROXY, HTTPS_PROXY, NO_PROXY]',
    '  labels:',
    '    io.rancher.os.scope: system',
    '    io.rancher.os.after: console',
    '  net: host',
    '  pid: host',
    '  ipc: host',
    '  uts: host',
    '  privileged: true',
    '  restart: always',
    '  volumes_from: [all-volumes]',
    '  volumes: [/sys:/host/sys, /var/lib/system-docker:/var/lib/system-docker:shared]',
    '',
  ].join('\n');
}

/** The variables node configs and steps name the served files by, for a service at baseUrl. */
export function rancherVars(baseUrl: string): Record<string, string> {
  return {
    'rancher.files_url': baseUrl,
    'rancher.upgrade_url': `${baseUrl}${RANCHER_PATHS.releases}`,
    'rancher.repositories_url': `${baseUrl}${RANCHER_PATHS.repository}`,
  };
}
