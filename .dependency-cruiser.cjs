// Import rules for lab/: folders by layer, each may import only from layers below it.
//   cli → report → run → cluster → checkpoints / guestconfig → machine → images / download → host → scenario → util
// checkpoints and guestconfig are peers (neither imports the other); download sits below images.
// `npx depcruise lab` checks them; test/layers.test.ts runs it in the suite.
const LAYERS = ['util', 'scenario', 'host', 'download', 'images', 'machine', 'guestconfig', 'checkpoints', 'cluster', 'run', 'report', 'cli'];
const PEERS = { guestconfig: ['checkpoints'], checkpoints: ['guestconfig'] };

const upward = LAYERS.map((layer, i) => ({
  name: `${layer}-imports-up`,
  comment: `lab/${layer}/ may import only from the layers below it (${LAYERS.slice(0, i).join(', ') || 'none'})`,
  severity: 'error',
  from: { path: `^lab/${layer}/` },
  to: { path: `^lab/(${[...LAYERS.slice(i + 1), ...(PEERS[layer] ?? [])].join('|')})/` },
})).filter((r) => r.to.path !== '^lab/()/');

module.exports = {
  forbidden: [
    ...upward,
    { name: 'no-circular', severity: 'error', comment: 'no import cycles, inside a layer either', from: { path: '^lab/' }, to: { circular: true } },
    { name: 'lab-not-in-folder', severity: 'error', comment: 'every module of lab/ lives in a layer folder', from: { path: '^lab/[^/]+\\.ts$' }, to: {} },
    { name: 'lab-imports-tests', severity: 'error', from: { path: '^lab/' }, to: { path: '^(test|bench|scripts)/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
