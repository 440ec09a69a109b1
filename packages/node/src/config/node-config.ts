import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  RemembrancerError,
  base64Encode,
  crypto,
  errorMessage,
  parseGovernanceOperators,
  publicKeyBase64,
} from '@vaultmesh/core';
import { generateKeyFile, readKeyFile, writeSecretFile } from '../identity/key-file.js';
import { parseAnchoringConfig, type AnchoringConfig } from './anchoring-config.js';
import { parseStorageConfig, type StorageConfig } from './storage-config.js';
import { BATCH_BODY_LIMIT_BYTES, DEFAULT_HTTP_LIMITS, type HttpLimits } from './http-limits.js';
import {
  DEFAULT_BATCH_MAX_AGE_MS,
  DEFAULT_BATCH_MAX_ENTRIES,
  DEFAULT_CHECKPOINT_INTERVAL_MS,
  DEFAULT_LEAF_INDEX,
  DEFAULT_MIN_CHECKPOINT_INTERVAL_MS,
  DEFAULT_QUEUE_MAX_ENTRIES,
  DEFAULT_SQLITE_SYNCHRONOUS,
} from '../log/log-engine-defaults.js';

/** What `remembrancer init` writes to DIR/config.json; every field has a production default. */
export interface NodeConfig {
  name: string;
  listen: string;
  checkpointIntervalMs: number;
  /** Least time between checkpoints signed early because appends wait for a receipt (POST …?wait=), ms. */
  minCheckpointIntervalMs: number;
  batchMaxEntries: number;
  batchMaxAgeMs: number;
  queueMaxEntries: number;
  synchronous: 'FULL' | 'NORMAL';
  /** Keep the leaf-hash index (GET /v1/ns/{ns}/leaf/{hash}); off saves a sorted run per 65,536 appends (2–4 % of the append rate). */
  leafIndex: boolean;
  /** The explorer build served at /explorer/ (relative: to the data directory; default: packages/explorer/dist). */
  explorerDir?: string;
  /** Largest accepted batch body, bytes (every other route has a fixed limit fitted to what it takes). */
  bodyLimitBytes: number;
  /** Timeouts and caps of the HTTP server, each defaulting to DEFAULT_HTTP_LIMITS (http/http-limits.ts). */
  http?: Partial<HttpLimits>;
  /** Base URL peers reach this node at (default: http://<listen>). */
  endpoint?: string;
  /** How often every active peer's checkpoints and witness view are pulled, ms (0: no gossip). */
  gossipIntervalMs: number;
  /**
   * External C2SP logs this node's witness also cosigns, besides the registry peers' logs:
   * origin → log verifier keys (vkeys).
   */
  witnessLogs?: Record<string, string[]>;
  /**
   * Who may change namespace rules: governance documents (sys:governance) need valid signatures of
   * `threshold` distinct operators. Default: this node's own operator key, threshold 1.
   */
  governance?: GovernanceConfig;
  /** External anchor targets and epoch timing (config/anchoring-config.ts); absent: no anchoring. */
  anchoring?: unknown;
  /** Where the node's state lives (config/storage-config.ts); absent: SQLite files in the data directory. */
  storage?: unknown;
}

export interface GovernanceConfig {
  threshold: number;
  /** Operator ids with base64 Ed25519 public keys. */
  operators: { id: string; ed25519: string }[];
}

export interface NodeIdentity {
  config: NodeConfig;
  dataDir: string;
  dbPath: string;
  logSeed: Uint8Array;
  witnessSeed: Uint8Array;
  peerSeed: Uint8Array;
  /** This node's operator key: signs governance documents made through the admin API. */
  operatorSeed: Uint8Array;
  operatorId: string;
  /** The governance operators in force (config, or this node's operator alone). */
  governance: GovernanceConfig;
  /** The anchor targets and epoch timing, checked (no targets when config.json names none). */
  anchoring: AnchoringConfig;
  /** Where the node's state lives, checked (SQLite when config.json names none). */
  storage: StorageConfig;
  adminToken: string;
}

export const DEFAULT_CONFIG: Omit<NodeConfig, 'name'> = {
  listen: '127.0.0.1:8080',
  checkpointIntervalMs: DEFAULT_CHECKPOINT_INTERVAL_MS,
  minCheckpointIntervalMs: DEFAULT_MIN_CHECKPOINT_INTERVAL_MS,
  batchMaxEntries: DEFAULT_BATCH_MAX_ENTRIES,
  batchMaxAgeMs: DEFAULT_BATCH_MAX_AGE_MS,
  queueMaxEntries: DEFAULT_QUEUE_MAX_ENTRIES,
  synchronous: DEFAULT_SQLITE_SYNCHRONOUS,
  leafIndex: DEFAULT_LEAF_INDEX,
  bodyLimitBytes: BATCH_BODY_LIMIT_BYTES,
  gossipIntervalMs: 1000,
};

// A node name becomes the first half of every origin; C2SP key names forbid spaces and '+'.
const NODE_NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;

export function validateNodeName(name: string): void {
  if (!NODE_NAME.test(name)) {
    throw new RemembrancerError(
      'INVALID_ARGUMENT',
      `node name '${name}' must be a lower-case host-like name (a-z, 0-9, '.', '-')`,
    );
  }
}

/** The id this node's operator key signs governance documents under. */
export function operatorIdOf(nodeName: string): string {
  return `${nodeName}/operator`;
}

export function dataPaths(dataDir: string) {
  return {
    config: join(dataDir, 'config.json'),
    adminToken: join(dataDir, 'admin.token'),
    keys: join(dataDir, 'keys'),
    logKey: join(dataDir, 'keys', 'log.key'),
    witnessKey: join(dataDir, 'keys', 'witness.key'),
    peerKey: join(dataDir, 'keys', 'peer.key'),
    operatorKey: join(dataDir, 'keys', 'operator.key'),
    db: join(dataDir, 'remembrancer.sqlite'),
  };
}

/** Creates a node's identity: config, three Ed25519 keys and the admin token. Refuses to overwrite. */
export function initNode(dataDir: string, name: string, overrides: Partial<NodeConfig> = {}): NodeIdentity {
  validateNodeName(name);
  const p = dataPaths(dataDir);
  if (existsSync(p.config)) {
    throw new RemembrancerError(
      'CONFIG_INVALID',
      `${dataDir} already holds a node (${p.config}); refusing to overwrite it`,
    );
  }
  // Private whatever the umask: the directory will hold private namespaces' entries and the keys.
  // One that already exists (made empty by the operator, or a 0755 mkdir) is tightened too.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  mkdirSync(p.keys, { recursive: true, mode: 0o700 });
  chmodSync(p.keys, 0o700);
  generateKeyFile(p.logKey, 'log');
  generateKeyFile(p.witnessKey, 'witness');
  generateKeyFile(p.peerKey, 'peer');
  const operatorSeed = generateKeyFile(p.operatorKey, 'operator');
  writeSecretFile(
    p.adminToken,
    base64Encode(crypto.randomBytes(32)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') + '\n',
  );
  const config: NodeConfig = {
    name,
    ...DEFAULT_CONFIG,
    governance: { threshold: 1, operators: [{ id: operatorIdOf(name), ed25519: publicKeyBase64(operatorSeed) }] },
    ...overrides,
  };
  // The config is written last: its presence marks a complete init.
  writeFileSync(p.config, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  chmodSync(p.config, 0o600);
  return loadNode(dataDir);
}

/** `http` in config.json: only known members, each a positive integer. */
function validateHttpLimits(http: unknown, file: string): void {
  if (http === undefined) return;
  if (typeof http !== 'object' || http === null || Array.isArray(http))
    throw new RemembrancerError('CONFIG_INVALID', `${file}: http must be an object`);
  for (const [k, v] of Object.entries(http)) {
    if (!(k in DEFAULT_HTTP_LIMITS))
      throw new RemembrancerError(
        'CONFIG_INVALID',
        `${file}: http.${k} is not a known limit (${Object.keys(DEFAULT_HTTP_LIMITS).join(', ')})`,
      );
    if (!Number.isSafeInteger(v) || (v as number) <= 0)
      throw new RemembrancerError('CONFIG_INVALID', `${file}: http.${k} must be a positive integer`);
  }
}

export function loadNode(dataDir: string): NodeIdentity {
  const p = dataPaths(dataDir);
  if (!existsSync(p.config)) {
    throw new RemembrancerError(
      'CONFIG_INVALID',
      `${dataDir} holds no node; run 'remembrancer init --data ${dataDir} --name NAME' first`,
    );
  }
  let raw: Partial<NodeConfig>;
  try {
    raw = JSON.parse(readFileSync(p.config, 'utf8')) as Partial<NodeConfig>;
  } catch (cause) {
    throw new RemembrancerError('CONFIG_INVALID', `${p.config} is not valid JSON`, { cause });
  }
  const config = { ...DEFAULT_CONFIG, ...raw } as NodeConfig;
  validateNodeName(config.name);
  for (const k of [
    'checkpointIntervalMs',
    'minCheckpointIntervalMs',
    'batchMaxEntries',
    'batchMaxAgeMs',
    'queueMaxEntries',
    'bodyLimitBytes',
    'gossipIntervalMs',
  ] as const) {
    if (!Number.isSafeInteger(config[k]) || config[k] < 0)
      throw new RemembrancerError('CONFIG_INVALID', `${p.config}: ${k} must be a non-negative integer`);
  }
  validateHttpLimits(config.http, p.config);
  if (config.synchronous !== 'FULL' && config.synchronous !== 'NORMAL') {
    throw new RemembrancerError('CONFIG_INVALID', `${p.config}: synchronous must be FULL or NORMAL`);
  }
  if (typeof config.leafIndex !== 'boolean') {
    throw new RemembrancerError('CONFIG_INVALID', `${p.config}: leafIndex must be true or false`);
  }
  if (config.explorerDir !== undefined && (typeof config.explorerDir !== 'string' || config.explorerDir === '')) {
    throw new RemembrancerError('CONFIG_INVALID', `${p.config}: explorerDir must be a directory path`);
  }
  const anchoring = parseAnchoringConfig(config.anchoring, p.config, dataDir);
  const storage = parseStorageConfig(config.storage, p.config);
  const adminToken = readFileSync(p.adminToken, 'utf8').trim();
  // Nodes initialised before governance existed get their operator key on first start.
  const operatorSeed = existsSync(p.operatorKey)
    ? readKeyFile(p.operatorKey, 'operator')
    : generateKeyFile(p.operatorKey, 'operator');
  const operatorId = operatorIdOf(config.name);
  let governance: GovernanceConfig;
  try {
    governance = config.governance
      ? parseGovernanceOperators(config.governance, '/governance')
      : { threshold: 1, operators: [{ id: operatorId, ed25519: publicKeyBase64(operatorSeed) }] };
  } catch (cause) {
    throw new RemembrancerError('CONFIG_INVALID', `${p.config}: ${errorMessage(cause)}`, { cause });
  }
  return {
    config,
    dataDir,
    dbPath: p.db,
    logSeed: readKeyFile(p.logKey, 'log'),
    witnessSeed: readKeyFile(p.witnessKey, 'witness'),
    peerSeed: readKeyFile(p.peerKey, 'peer'),
    operatorSeed,
    operatorId,
    governance,
    anchoring,
    storage,
    adminToken,
  };
}
