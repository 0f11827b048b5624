import type { Command } from 'commander';
import { capBytes, checkpointsDir, listCheckpoints, parseSize, pruneCheckpoints, removeCheckpoint } from '../checkpoints/store.js';
import { mb } from '../download/download.js';
import { LabError } from '../util/errors.js';

/** `corelab checkpoints list | rm | prune`. */
export function checkpointCommands(program: Command): void {
  const checkpoints = program.command('checkpoints').description('saved labs that later runs restore instead of replaying the steps before them');
  checkpoints
    .command('list')
    .description('every saved checkpoint: scenario, name, size, when saved and last used')
    .action(() => {
      const all = listCheckpoints().sort((a, b) => b.lastUsedAt.localeCompare(a.lastUsedAt));
      for (const m of all) {
        process.stdout.write(`${m.key}  ${m.scenario}/${m.checkpoint}  after step ${m.afterStep + 1}  ${mb(m.size)}  saved ${m.createdAt}  used ${m.lastUsedAt}\n`);
      }
      const total = all.reduce((a, m) => a + m.size, 0);
      process.stdout.write(`${all.length} checkpoint(s), ${mb(total)} of a ${mb(capBytes())} cap (CORELAB_CHECKPOINT_CAP) in ${checkpointsDir()}\n`);
    });
  checkpoints
    .command('rm')
    .description('remove checkpoints by key (or key prefix), or --all')
    .argument('[keys...]')
    .option('--all', 'remove every checkpoint')
    .action((keys: string[], o: { all?: boolean }) => {
      const all = listCheckpoints();
      if (!o.all && !keys.length) throw new LabError('name the checkpoints to remove', { fix: 'corelab checkpoints rm KEY (see corelab checkpoints list), or --all' });
      for (const k of o.all ? all.map((m) => m.key) : keys) {
        const match = all.filter((m) => m.key.startsWith(k));
        if (match.length !== 1) throw new LabError(match.length ? `"${k}" matches ${match.length} checkpoints` : `no checkpoint "${k}"`, { fix: 'give more of the key; corelab checkpoints list shows them' });
        removeCheckpoint(match[0].key);
        process.stdout.write(`removed ${match[0].key} (${match[0].scenario}/${match[0].checkpoint})\n`);
      }
    });
  checkpoints
    .command('prune')
    .description('remove least recently used checkpoints until the store fits its cap')
    .option('--max-size <size>', 'the cap for this prune, e.g. 10G (default CORELAB_CHECKPOINT_CAP or 20G)')
    .action((o: { maxSize?: string }) => {
      const cap = o.maxSize ? parseSize(o.maxSize) : capBytes();
      const removed = pruneCheckpoints(cap);
      for (const m of removed) process.stdout.write(`removed ${m.key} (${m.scenario}/${m.checkpoint}, ${mb(m.size)}, last used ${m.lastUsedAt})\n`);
      process.stdout.write(`${removed.length} removed; ${mb(listCheckpoints().reduce((a, m) => a + m.size, 0))} left of a ${mb(cap)} cap\n`);
    });

}
