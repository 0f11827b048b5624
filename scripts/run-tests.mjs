#!/usr/bin/env node
// Runs the ava suite with TAP output, passes it through, and ends with the one line CI reads:
// "N passed, N failed, N skipped", counted from the TAP results. Exits with ava's exit code.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const ava = spawn('npx', ['ava', '--tap', ...process.argv.slice(2)], { stdio: ['ignore', 'pipe', 'inherit'] });
let passed = 0;
let failed = 0;
let skipped = 0;
createInterface({ input: ava.stdout }).on('line', (line) => {
  process.stdout.write(line + '\n');
  const m = line.match(/^(not ok|ok)\b.*?(#\s*(SKIP|TODO)\b)?\s*$/i);
  if (!m) return;
  if (m[3]) skipped++;
  else if (m[1] === 'ok') passed++;
  else failed++;
});
ava.on('close', (code) => {
  const exit = code ?? 1;
  if (exit !== 0 && failed === 0) failed = 1; // ava failed outside a test (a crash, an uncaught error, a timeout)
  process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  process.exit(exit);
});
