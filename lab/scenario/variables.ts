/** Variables the lab defines: for node configs, and for step commands and expectations. */
export function knownVariables(nodes: string[], discovery: boolean, registry = false, ports: string[] = []) {
  const common = [...ports, ...(discovery ? ['discovery.url', 'discovery.endpoint'] : []), ...(registry ? ['registry.url', 'registry.host'] : []), ...nodes.flatMap((n) => [`nodes.${n}.address`, `nodes.${n}.name`])];
  const configList = ['node.name', 'node.address', 'node.prefix', 'ssh_public_key', ...common];
  const stepList = [...common, 'run.attempt'];
  return {
    configList,
    config: (v: string) => configList.includes(v),
    step: (v: string) => stepList.includes(v),
    stepList,
  };
}

export type KnownVariables = ReturnType<typeof knownVariables>;
