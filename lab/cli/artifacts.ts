import type { Command } from 'commander';
import { ARTIFACTS, howToSupply, importArtifact, pullArtifact, resolveArtifact } from '../images/artifacts.js';
import { LabError } from '../util/errors.js';
import type { CliContext } from './context.js';

/** `corelab artifacts list | pull | import`. */
export function artifactCommands(program: Command, ctx: CliContext): void {
  const controller = { signal: ctx.signal };
  const artifacts = program.command('artifacts').description('programs the lab hands guests that their image lacks (fleet; etcd 3.4 for Flatcar)');
  artifacts
    .command('list')
    .description('known artifacts and whether they are here')
    .option('--artifacts <dir>', 'also look in this folder')
    .action(async (o: { artifacts?: string }) => {
      for (const spec of Object.values(ARTIFACTS)) {
        const a = await resolveArtifact(spec.name, o.artifacts ?? process.env.CORELAB_ARTIFACTS);
        process.stdout.write(`${spec.name} ${a?.version ?? spec.version}  ${a ? `here: ${a.source} (sha256 ${a.sha256.slice(0, 16)}…)` : `missing: ${howToSupply(spec)}`}\n`);
      }
    });
  artifacts
    .command('pull')
    .description('download an artifact\'s upstream release asset (or from --mirror) into the cache')
    .argument('<name>')
    .option('--mirror <url>', 'a mirror with the upstream paths (or CORELAB_ARTIFACTS_MIRROR)')
    .option('--offline', 'never touch the network')
    .action(async (name: string, o: { mirror?: string; offline?: boolean }) => {
      const a = await pullArtifact(name, { ...o, signal: controller.signal });
      process.stdout.write(`${a.spec.name} ${a.spec.version}: ${Object.values(a.binaries).join(', ')} (release sha256 ${a.sha256})\n`);
    });
  artifacts
    .command('import')
    .description('take an artifact from a local file into the cache: the upstream release tarball, or one of its binaries (e.g. /usr/bin/etcd)')
    .argument('<name>')
    .argument('<file>')
    .action(async (name: string, file: string) => {
      const spec = ARTIFACTS[name];
      if (!spec) throw new LabError(`unknown artifact "${name}"`, { fix: `known: ${Object.keys(ARTIFACTS).join(', ')}` });
      const { artifact: a, missing } = await importArtifact(spec, file);
      if (a) process.stdout.write(`${spec.name} ${a.version ?? spec.version} imported from ${file} (sha256 ${a.sha256})\n`);
      else process.stdout.write(`${spec.name}: ${file} imported; still missing: ${missing.join(', ')} (import ${missing.length > 1 ? 'them' : 'it'} the same way)\n`);
    });

}
