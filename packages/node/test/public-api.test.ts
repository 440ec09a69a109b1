import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as node from '@vaultmesh/node';

// The runtime names of @vaultmesh/node, by the groups of src/index.ts. Adding a name to the package
// root is a deliberate change: add it here.
const PUBLIC = [
  // the daemon
  'runNode',
  // SQLite to PostgreSQL
  'migrateToPostgres',
  // the data directory
  'dataPaths',
  'initNode',
  'loadNode',
  'setPrivateUmask',
  // key files and rotation
  'generateKeyFile',
  'prepareKeyRotation',
  'readKeyFile',
  // federation: this node's registry entry, the peer routes
  'localPeerEntry',
  'peerConsistencyProofPath',
  'peerRootPath',
  'PEER_BODY_LIMIT_BYTES',
  // namespace writers
  'tokenSha256',
  // the log engine, offline
  'openLogEngine',
  // a local RFC 3161 TSA
  'startDevTsa',
  // local dev chains
  'DevChainNotInstalledError',
  'startDevAnvil',
  'startDevBitcoin',
  'startDevChains',
  // chain anchors: block depth for verify
  'bitcoinBlockConfirmations',
  'bitcoinRpc',
  'evmBlockConfirmations',
];

// Internals that tests reach by relative path; none of them is part of the contract.
const INTERNAL = [
  'Sequencer',
  'toMirrorSlot',
  'fromMirrorSlot',
  'TiledLogEngine',
  'createLogEngine',
  'SqliteLogStorage',
  'FederationStore',
  'FederationRegistry',
  'Cosigner',
  'Gossip',
  'EvidenceLedger',
  'Witness',
  'WitnessStore',
  'buildHttpServer',
  'peerScope',
  'witnessRoutes',
  'NamespaceDirectory',
  'openNamespaceServices',
  'loadBatchHasher',
  'NodeMetrics',
  'peerCredentials',
];

test('the runtime names of @vaultmesh/node are exactly the listed public API', () => {
  const actual = Object.keys(node).sort();
  const expected = [...PUBLIC].sort();
  assert.equal(new Set(PUBLIC).size, PUBLIC.length, 'a name is listed twice');
  assert.deepEqual(
    { added: actual.filter((n) => !expected.includes(n)), missing: expected.filter((n) => !actual.includes(n)) },
    { added: [], missing: [] },
  );
  assert.deepEqual(actual, expected);
});

test('internals of @vaultmesh/node are not exported', () => {
  for (const name of INTERNAL) assert.ok(!(name in node), `${name} is exported`);
});
