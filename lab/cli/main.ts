/**
 * The cli layer (lab/cli/): the `corelab` command. main.ts parses the command line, owns Ctrl-C
 * and the exit code, and hands each command group (one file each: run.ts, lab.ts, images.ts,
 * artifacts.ts, checkpoints.ts) a CliContext with the signal and the catalog, read once. It is
 * the top layer: it may import any other, none imports it.
 */
import { Command, CommanderError } from 'commander';
import { killAllDaemons, liveDaemons } from '../host/proc.js';
import { formatError, LabError } from '../util/errors.js';
import { log } from '../util/log.js';
import { SCENARIO_SCHEMA } from '../scenario/schema.js';
import { CliContext } from './context.js';
import { runCommands } from './run.js';
import { labCommands } from './lab.js';
import { checkpointCommands } from './checkpoints.js';
import { artifactCommands } from './artifacts.js';
import { imageCommands } from './images.js';
import { registerHistory } from './history.js';
import { cleanStaleLabs } from '../cluster/state.js';
import { cleanStaleBuilds } from '../images/stalebuilds.js';
import { pruneTemplates } from '../machine/template.js';
import { cleanStaleCheckpoints } from '../checkpoints/store.js';

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) {
      killAllDaemons();
      process.exit(130);
    }
    log(`${sig}: stopping; tearing the lab down (press Ctrl-C again to kill at once)`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const ctx = new CliContext(controller.signal);
  const program = new Command('corelab')
    .description('Boot container-host OS images in QEMU on a private network and run scenarios against them')
    .exitOverride()
    .showHelpAfterError()
    .enablePositionalOptions();
  runCommands(program, ctx);
  labCommands(program, ctx);
  checkpointCommands(program);
  artifactCommands(program, ctx);
  imageCommands(program, ctx);
  registerHistory(program);
  program
    .command('schema')
    .description('print the JSON Schema of scenario files (for editors: # yaml-language-server: $schema=...)')
    .action(() => {
      process.stdout.write(JSON.stringify(SCENARIO_SCHEMA, null, 2) + '\n');
    });

  try {
    // What a killed corelab left (labs, image builds, unfinished boot templates) goes before anything else runs.
    cleanStaleLabs();
    cleanStaleCheckpoints();
    await cleanStaleBuilds();
    pruneTemplates();
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    process.stderr.write(`corelab: ${formatError(err)}\n`);
    return controller.signal.aborted ? 130 : err instanceof LabError ? 2 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // Every command stops what it started; anything still up here is a lab bug, and would keep
    // this process from exiting. Say so, and stop it.
    const left = liveDaemons();
    if (left.length) {
      process.stderr.write(`corelab: internal error: ${left.map((d) => `${d.name} (pid ${d.pid})`).join(', ')} still running at exit; stopping them\n`);
      killAllDaemons();
      ctx.code = ctx.code || 1;
    }
  }
  return ctx.code;
}
