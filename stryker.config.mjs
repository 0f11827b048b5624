// Mutation testing of the assertion core, the checkpoint key, the boot template hotplug split, the save pipe and the console scan (npm run mutate, scripts/mutate.mjs).
// Each group is the code mutated and the ava unit tests that guard it; `npm run mutate` runs one
// Stryker pass per group (so a mutant runs only the tests that can kill it) and prints the total
// score. `npx stryker run` alone does every group at once with every group's tests.
// The checkpoint key (labVersion, checkpointInputs, keyOf, checkpointPoints, whyNoMatch, describe)
// is lab/checkpoints/key.ts.
// Survivors judged equivalent are listed, with a reason, in test/MUTANTS.md.
export const GROUPS = {
  expect: {
    mutate: ['lab/run/expect.ts', 'lab/run/tables.ts'],
    tests: ['test/expect-mutants.test.ts', 'test/tables-mutants.test.ts', 'test/expect.test.ts', 'test/tables.test.ts'],
  },
  selection: {
    mutate: ['lab/scenario/selection.ts'],
    tests: ['test/selection-mutants.test.ts', 'test/selection.test.ts'],
  },
  checkpointkey: {
    mutate: ['lab/checkpoints/key.ts'],
    tests: ['test/checkpointkey.test.ts', 'test/checkpoints.test.ts'],
  },
  hotplug: {
    mutate: ['lab/machine/hotplug.ts'],
    tests: ['test/template.test.ts'],
  },
  savepipe: {
    mutate: ['lab/machine/savepipe.ts'],
    tests: ['test/savepipe.test.ts'],
  },
  console: {
    mutate: ['lab/machine/console.ts'],
    tests: ['test/consolescan.test.ts'],
  },
};

const name = process.env.CORELAB_MUTATE_GROUP;
const groups = name ? [GROUPS[name]] : Object.values(GROUPS);
if (groups.includes(undefined)) throw new Error(`CORELAB_MUTATE_GROUP=${name} is not one of ${Object.keys(GROUPS).join(', ')}`);
const tests = groups.flatMap((g) => g.tests);

export default {
  packageManager: 'npm',
  mutate: groups.flatMap((g) => g.mutate),
  testRunner: 'command',
  // --fail-fast: the first failing test kills the mutant, the rest need not run.
  commandRunner: { command: `node node_modules/ava/entrypoints/cli.mjs --fail-fast ${tests.join(' ')}` },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'off',
  // Stryker gives half to TypeScript checkers (busy only at the start) and half to ava runs.
  concurrency: 4,
  timeoutMS: 60000,
  reporters: ['clear-text', 'progress-append-only', 'json'],
  jsonReporter: { fileName: `out/mutation/${name ?? 'all'}.json` },
  clearTextReporter: { allowColor: false, logTests: false },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
