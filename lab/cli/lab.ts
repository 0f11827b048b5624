import { Option, type Command } from 'commander';
import { spawn } from 'node:child_process';
import { down, findLab, serve, sshArgs, statusText, up } from './interactive.js';
import type { CliContext } from './context.js';

/** A lab that stays up: up, serve (hidden), status, ssh, console, down. */
export function labCommands(program: Command, ctx: CliContext): void {
  program
    .command('up')
    .description('boot a scenario\'s lab and leave it running (then: status, ssh, console, down)')
    .argument('<scenario>')
    .addOption(new Option('--accel <accel>', 'force the accelerator').choices(['kvm', 'tcg']))
    .action(async (path: string, o: { accel?: 'kvm' | 'tcg' }) => {
      const lab = await up(path, { accel: o.accel, signal: ctx.signal, catalog: ctx.catalog });
      process.stdout.write(`lab ${lab.name} is up\n${statusText()}ssh into a node: corelab ssh NODE\nstop it:         corelab down ${lab.name}\n`);
    });

  program
    .command('serve', { hidden: true })
    .description('own a lab until SIGTERM (what up starts in the background)')
    .argument('<scenario>')
    .addOption(new Option('--accel <accel>').choices(['kvm', 'tcg']))
    .action(async (path: string, o: { accel?: 'kvm' | 'tcg' }) => {
      await serve(path, { accel: o.accel, signal: ctx.signal, catalog: ctx.catalog });
    });

  program
    .command('status')
    .description('labs that are up, their nodes and how to reach them')
    .action(() => {
      process.stdout.write(statusText());
    });

  program
    .command('ssh')
    .description('a shell (or a command) on a node of a running lab; what follows the node goes to the guest as it is')
    .argument('<node>')
    .argument('[command...]')
    .option('--lab <name>', 'which lab, when several are up (before the node)')
    .passThroughOptions()
    .action(async (node: string, command: string[], o: { lab?: string }) => {
      const lab = findLab(o.lab, node);
      const child = spawn('ssh', sshArgs(lab, node, command), { stdio: 'inherit' });
      ctx.code = await new Promise<number>((r) => child.on('exit', (c) => r(c ?? 255)));
    });

  program
    .command('console')
    .description('the serial console log of a node of a running lab')
    .argument('<node>')
    .option('--lab <name>', 'which lab, when several are up')
    .option('-f, --follow', 'keep printing as the console writes')
    .action(async (node: string, o: { lab?: string; follow?: boolean }) => {
      const lab = findLab(o.lab, node);
      const file = lab.nodes.find((n) => n.name === node)!.console;
      const child = spawn('tail', ['-n', '200', ...(o.follow ? ['-f'] : []), file], { stdio: 'inherit' });
      ctx.signal.addEventListener('abort', () => child.kill());
      await new Promise((r) => child.on('exit', r));
    });

  program
    .command('down')
    .description('tear a running lab down')
    .argument('[lab]', 'the lab (or its scenario name); the only one if not given')
    .action(async (name?: string) => {
      const lab = findLab(name);
      await down(lab);
      process.stdout.write(`lab ${lab.name} is down\n`);
    });
}
