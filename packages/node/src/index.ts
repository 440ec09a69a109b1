// The public API of @vaultmesh/node, listed by hand: what the CLI, end-to-end tests and tools
// outside the package use. Folder indexes may export more; tests reach those internals by relative
// path. A new name here is a deliberate change (test/public-api.test.ts).

// The daemon: a node served from its data directory until close()
export { runNode, type RunNodeOptions, type RunningNode } from './daemon/index.js';

// Moving a stopped node's SQLite state to PostgreSQL (remembrancer migrate)
export {
  migrateToPostgres,
  type MigrateOptions,
  type MigrationReport,
  type NamespaceReport,
  type TableReport,
} from './daemon/index.js';

// The data directory: identity and configuration, private file modes
export { dataPaths, initNode, loadNode, type NodeConfig, type NodeIdentity } from './config/index.js';
export { setPrivateUmask } from './daemon/index.js';

// Key files and two-step key rotation
export {
  generateKeyFile,
  prepareKeyRotation,
  readKeyFile,
  type KeyPurpose,
  type RotatableKey,
} from './identity/index.js';

// Federation: this node's registry entry; the peer routes and their body limit, for peer clients
export { localPeerEntry, peerConsistencyProofPath, peerRootPath } from './federation/index.js';
export { PEER_BODY_LIMIT_BYTES } from './http/index.js';

// Namespace writers: what a namespace spec records for a token writer
export { tokenSha256 } from './namespaces/index.js';

// The log engine over a data directory, opened without serving it (offline tools, crash checks)
export { openLogEngine, type LogEngine, type ObservableLogEngine, type OpenLogEngineOptions } from './log/index.js';

// A local RFC 3161 TSA (openssl ts behind HTTP, a fresh CA per run) for `federation up` and tests
export { startDevTsa, type DevTsa, type StartDevTsaOptions } from './anchoring/index.js';

// Local dev chains (anvil, a bcoin regtest node with a miner) for `federation up` and tests;
// bcoin and @foundry-rs/anvil are development dependencies, so a chain may be unavailable
export {
  DevChainNotInstalledError,
  startDevAnvil,
  startDevBitcoin,
  startDevChains,
  type DevAnvil,
  type DevBitcoin,
  type DevBitcoinMiner,
  type DevChainUnavailable,
  type DevChains,
  type StartDevAnvilOptions,
  type StartDevBitcoinOptions,
  type StartDevChainsOptions,
} from './anchoring/index.js';

// Chain anchors: how deep a block is on a chain node's best chain (`verify --evm-rpc / --btc-rpc`)
export {
  bitcoinBlockConfirmations,
  bitcoinRpc,
  evmBlockConfirmations,
  type BitcoinRpc,
} from './anchoring/chain/chain-public.js';

// What GET /v1/anchoring/status answers (the CLI's `anchor status` reads it)
export type { AnchoringStatus, TargetStatus } from './anchoring/anchoring-status.js';

// What the messaging routes answer (the CLI's `message send|status|inbox` reads them)
export type {
  DeliveryProof,
  InboxItem,
  InboxPage,
  MessageState,
  MessageStatusView,
  SentMessage,
} from './messaging/messaging-wire.js';
