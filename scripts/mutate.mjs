#!/usr/bin/env node
// npm run mutate [GROUP...]: one Stryker pass per group of stryker.config.mjs, then the score over
// all of them (killed and timed-out mutants over every mutant that ran: survived and uncovered
// count against it; mutants that do not compile are left out, as Stryker does) and every survivor.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { GROUPS } from '../stryker.config.mjs';

const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(GROUPS);
const total = { killed: 0, survived: 0 };
const survivors = [];
for (const name of names) {
  if (!GROUPS[name]) throw new Error(`no mutation group "${name}" (groups: ${Object.keys(GROUPS).join(', ')})`);
  console.log(`\n== mutating ${GROUPS[name].mutate.join(', ')} against ${GROUPS[name].tests.join(' ')}`);
  const r = spawnSync('npx', ['stryker', 'run', 'stryker.config.mjs'], { stdio: 'inherit', env: { ...process.env, CORELAB_MUTATE_GROUP: name } });
  if (r.status !== 0) {
    console.error(`stryker failed on group ${name} (exit ${r.status})`);
    process.exit(1);
  }
  const report = JSON.parse(readFileSync(`out/mutation/${name}.json`, 'utf8'));
  for (const [file, { mutants }] of Object.entries(report.files)) {
    for (const m of mutants) {
      if (m.status === 'Killed' || m.status === 'Timeout') total.killed++;
      else if (m.status === 'Survived' || m.status === 'NoCoverage') {
        total.survived++;
        survivors.push(`${file}:${m.location.start.line}:${m.location.start.column} ${m.mutatorName}: ${JSON.stringify(m.replacement)}`);
      }
    }
  }
}
const all = total.killed + total.survived;
console.log(`\nsurvivors (${survivors.length}):\n${survivors.map((s) => `  ${s}`).join('\n') || '  none'}`);
console.log(`\nmutation score: ${all ? ((100 * total.killed) / all).toFixed(2) : '100.00'}% (${total.killed} killed of ${all}; ${total.survived} survived, see test/MUTANTS.md for those judged equivalent)`);
