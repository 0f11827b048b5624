#!/usr/bin/env node
// Runs the ava suite with TAP output, passes it through, and ends with the one line CI reads:
// "N passed, N failed, N skipped". The counts come from what ava's workers reported (traced by
// ava-trace.mjs) checked against the TAP stream; a test file that crashed, timed out or left
// tests unfinished is one failure, named above the line. Exits 1 if and only if failed > 0.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseTap, summarize } from './test-summary.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const avaCli = join(here, '..', 'node_modules', 'ava', 'entrypoints', 'cli.mjs');
const traceDir = mkdtempSync(join(tmpdir(), 'corelab-tests-'));
const trace = join(traceDir, 'trace.jsonl');

const ava = spawn(process.execPath, [`--import=${join(here, 'ava-trace.mjs')}`, avaCli, '--tap', ...process.argv.slice(2)], {
  stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, CORELAB_TEST_TRACE: trace },
});
const lines = [];
let stderr = '';
createInterface({ input: ava.stdout }).on('line', (line) => {
  lines.push(line);
  process.stdout.write(line + '\n');
});
ava.stderr.on('data', (d) => {
  process.stderr.write(d);
  stderr = (stderr + d.toString()).slice(-65536);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => ava.kill(sig));

ava.on('close', (code) => {
  let traceText = '';
  try {
    traceText = readFileSync(trace, 'utf8');
  } catch {
    /* no worker started */
  }
  rmSync(traceDir, { recursive: true, force: true });
  const s = summarize({ tap: parseTap(lines), traceText, exitCode: code, stderr });
  if (s.failures.length) process.stdout.write('\n' + s.failures.map((f) => `# FAILED ${f}`).join('\n') + '\n');
  process.stdout.write(`\n${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped\n`);
  process.exit(s.exitCode);
});
