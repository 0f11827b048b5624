/** Variables the lab defines: for node configs, and for step commands and expectations. */
export function knownVariables(nodes: string[], discovery: boolean, registry = false, ports: string[] = [], rancher = false) {
  const common = [...ports, ...(discovery ? ['discovery.url', 'discovery.endpoint'] : []), ...(registry ? ['registry.url', 'registry.host'] : []), ...(rancher ? RANCHER_VARIABLES : []), ...nodes.flatMap((n) => [`nodes.${n}.address`, `nodes.${n}.name`])];
  const configList = ['node.name', 'node.address', 'node.prefix', 'ssh_public_key', ...common];
  const stepList = [...common, 'run.attempt'];
  return {
    configList,
    config: (v: string) => configList.includes(v),
    step: (v: string) => stepList.includes(v),
    stepList,
  };
}

/** With `rancher:`: where guests find the served releases.yml and os-services repository. */
export const RANCHER_VARIABLES = ['rancher.upgrade_url', 'rancher.repositories_url', 'rancher.files_url'];

export type KnownVariables = ReturnType<typeof knownVariables>;
