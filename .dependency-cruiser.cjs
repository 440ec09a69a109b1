// Dependency rules of ../shared/DESIGN.md, checked by `npm run deps` (and so by CI):
// core ← node ← cli, no upward imports, no import cycles, and inside packages/node/src each area
// imports only the areas below it.
/** Folders of packages/node/src from the bottom up: a folder may import its own and lower ones. */
const NODE_LAYERS = [
  ['hashing', 'metrics', 'entries', 'identity'],
  ['storage'],
  ['log'],
  ['config'],
  ['witness'],
  ['federation'],
  ['namespaces'],
  ['anchoring'],
  ['messaging'],
  ['http'],
  ['daemon'],
];

const upward = NODE_LAYERS.flatMap((layer, i) => {
  const higher = NODE_LAYERS.slice(i + 1).flat();
  if (higher.length === 0) return [];
  return [
    {
      name: `node-layer-${layer.join('-')}`,
      comment: `packages/node/src/{${layer.join(',')}} must not import higher areas (${higher.join(', ')})`,
      severity: 'error',
      from: { path: `^packages/node/src/(${layer.join('|')})/` },
      to: { path: `^packages/node/src/(${higher.join('|')})/` },
    },
  ];
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'import cycles make modules load half-initialised and areas inseparable',
      severity: 'error',
      from: { path: '^packages/[^/]+/src/' },
      to: { circular: true },
    },
    {
      name: 'core-imports-nothing-of-ours',
      comment: 'core is pure and runs in the browser: it imports no other package of ours',
      severity: 'error',
      from: { path: '^packages/core/src/' },
      to: { path: '^packages/(node|cli|explorer)/' },
    },
    {
      name: 'core-no-node-builtins',
      comment: 'core runs in the browser: Node built-ins only in its node crypto provider',
      severity: 'error',
      from: { path: '^packages/core/src/', pathNot: '^packages/core/src/crypto/provider-node\\.ts$' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'node-not-cli',
      comment: 'node is below cli',
      severity: 'error',
      from: { path: '^packages/node/src/' },
      to: { path: '^packages/cli/' },
    },
    {
      name: 'only-http-imports-fastify',
      comment: 'rules know no transport: only http/ (and the daemon that starts it) import Fastify',
      severity: 'error',
      from: { path: '^packages/node/src/', pathNot: '^packages/node/src/(http|daemon)/' },
      to: { path: 'node_modules/fastify/' },
    },
    ...upward,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    combinedDependencies: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['vaultmesh-src', 'import', 'default'],
      extensions: ['.ts', '.js'],
    },
  },
};
