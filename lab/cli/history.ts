import type { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildHistory, readNights, type History } from '../report/history.js';
import { historyHtml } from '../report/historyhtml.js';

/** Writes history.json and history.html for the nights' folders into out; returns the history. */
export function writeHistory(dirs: string[], out: string): History {
  const h = buildHistory(readNights(dirs));
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'history.json'), JSON.stringify(h, null, 2) + '\n');
  writeFileSync(join(out, 'history.html'), historyHtml(h));
  return h;
}

/** `corelab history DIR...`: the trend over many nights' report folders, from the files alone. */
export function registerHistory(program: Command): void {
  program
    .command('history')
    .description('read the report.json of many runs (a folder per night, shards below it) and write history.html and history.json')
    .argument('<dir...>', 'one folder per night (each with the report.json of its run, or of each shard, anywhere below it)')
    .option('--out <dir>', 'where to write history.html and history.json', '.')
    .action((dirs: string[], o: { out: string }) => {
      const h = writeHistory(dirs, o.out);
      const slow = h.scenarios.flatMap((s) => s.steps.filter((st) => st.slow.length).map((st) => `${s.scenario}: "${st.name}"`));
      process.stdout.write(`${h.nights.length} night(s), ${h.scenarios.length} scenario(s): ${relative(process.cwd(), join(o.out, 'history.html')) || 'history.html'}, history.json\n`);
      for (const f of h.currentFailures) process.stdout.write(`  failing: ${f.scenario}: ${f.step}, since night ${f.sinceNight} (${f.nights} night(s))\n`);
      if (slow.length) process.stdout.write(`  slower than 1.5× their median on some night: ${slow.join(', ')}\n`);
    });
}
