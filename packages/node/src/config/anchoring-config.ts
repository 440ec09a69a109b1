import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { TSA_NAME_PATTERN } from '@vaultmesh/core';
import { durationMs, invalid, isObject, onlyMembers } from './anchoring-members.js';
import {
  parseBitcoinTarget,
  parseEvmTarget,
  type BitcoinTargetConfig,
  type EvmTargetConfig,
} from './chain-target-config.js';

/*
 * `anchoring` in config.json (issue 10, item 1): the external targets this node anchors to and
 * the timing of the federation's epochs. Example:
 *
 *   "anchoring": {
 *     "targets": {
 *       "rfc3161:local": {
 *         "tsas": [{ "url": "http://127.0.0.1:9000/", "trustAnchors": ["tsa-ca.pem"] }],
 *         "require": "any",
 *         "policyOid": "1.3.6.1.4.1.57264.3161.1",
 *         "epochMs": 10000
 *       }
 *     },
 *     "leaderTimeoutMs": 10000
 *   }
 *
 * Trust anchors are PEM text, or paths of PEM files (relative to the data directory).
 * `eip155:` and `btc:` targets (chain anchoring, issue 11) are parsed by chain-target-config.ts.
 */

/** One RFC 3161 Time-Stamping Authority and the certificates its chain must end in. */
export interface TsaConfig {
  readonly url: string;
  /** PEM certificates (one or more per entry) the TSA's signing certificate must chain to. */
  readonly trustAnchorsPem: readonly string[];
}

export interface Rfc3161TargetConfig {
  readonly kind: 'rfc3161';
  /** `rfc3161:<name>`, as namespace cadences name it. */
  readonly id: string;
  readonly tsas: readonly TsaConfig[];
  /** `any`: one token is enough (TSAs tried in order); `all`: one token from every TSA. */
  readonly require: 'any' | 'all';
  readonly policyOid?: string;
  /** Epoch length, ms: epoch e covers [e·epochMs, (e+1)·epochMs) of UTC time. */
  readonly epochMs: number;
}

export type AnchorTargetConfig = Rfc3161TargetConfig | EvmTargetConfig | BitcoinTargetConfig;
export type { BitcoinTargetConfig, EvmTargetConfig };

export interface AnchoringConfig {
  readonly targets: ReadonlyMap<string, AnchorTargetConfig>;
  /** How long a leader has to publish an epoch's anchor before the next peer takes over, ms. */
  readonly leaderTimeoutMs: number;
  /** Hybrid strategy: an epoch not finalized this long after it closed is anchored alone, ms. */
  readonly fallbackAfterMs: number;
  /** Clock difference between nodes the protocol tolerates, ms (deadlines wait this much longer). */
  readonly maxClockSkewMs: number;
  /** How often the coordinator looks for work, ms. */
  readonly tickMs: number;
}

export const DEFAULT_EPOCH_MS = 60_000;
export const DEFAULT_LEADER_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_CLOCK_SKEW_MS = 60_000;
export const DEFAULT_ANCHOR_TICK_MS = 250;
/** Shortest epoch: every epoch may cost a request to every TSA. */
export const MIN_EPOCH_MS = 1_000;
/** Longest epoch: a year and a day, as the longest cadence period. */
export const MAX_EPOCH_MS = 366 * 86_400_000;

const OID_PATTERN = /^[0-2](\.(0|[1-9][0-9]{0,8})){1,30}$/;
const ANCHORING_MEMBERS = new Set(['targets', 'leaderTimeoutMs', 'fallbackAfterMs', 'maxClockSkewMs', 'tickMs']);
const RFC3161_MEMBERS = new Set(['tsas', 'require', 'policyOid', 'epochMs']);
const TSA_MEMBERS = new Set(['url', 'trustAnchors']);
const MAX_TSAS = 16;

/** PEM text, or a file of it; each entry must hold at least one certificate. */
function trustAnchor(file: string, pointer: string, v: unknown, dataDir: string): string {
  if (typeof v !== 'string' || v.length === 0) invalid(file, pointer, 'must be PEM text or the path of a PEM file');
  let pem = v;
  if (!v.includes('-----BEGIN')) {
    const path = isAbsolute(v) ? v : join(dataDir, v);
    if (!existsSync(path)) invalid(file, pointer, `names ${path}, which does not exist`);
    pem = readFileSync(path, 'utf8');
  }
  if (!/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.test(pem))
    invalid(file, pointer, 'holds no PEM certificate');
  return pem;
}

function parseTsa(file: string, pointer: string, v: unknown, dataDir: string): TsaConfig {
  if (!isObject(v)) invalid(file, pointer, 'must be an object {url, trustAnchors}');
  onlyMembers(file, pointer, v, TSA_MEMBERS);
  let url: URL;
  try {
    url = new URL(String(v.url));
  } catch {
    invalid(file, `${pointer}.url`, 'must be an http(s) URL');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || typeof v.url !== 'string')
    invalid(file, `${pointer}.url`, 'must be an http(s) URL');
  if (!Array.isArray(v.trustAnchors) || v.trustAnchors.length === 0)
    invalid(file, `${pointer}.trustAnchors`, 'must list at least one PEM certificate or file');
  return {
    url: v.url,
    trustAnchorsPem: v.trustAnchors.map((t, i) => trustAnchor(file, `${pointer}.trustAnchors[${i}]`, t, dataDir)),
  };
}

function parseRfc3161(file: string, id: string, v: unknown, dataDir: string): Rfc3161TargetConfig {
  const pointer = `.targets["${id}"]`;
  const name = id.slice('rfc3161:'.length);
  if (!TSA_NAME_PATTERN.test(name)) invalid(file, pointer, `names an invalid TSA name "${name}"`);
  if (!isObject(v)) invalid(file, pointer, 'must be an object {tsas, require, policyOid?, epochMs?}');
  onlyMembers(file, pointer, v, RFC3161_MEMBERS);
  if (!Array.isArray(v.tsas) || v.tsas.length === 0 || v.tsas.length > MAX_TSAS)
    invalid(file, `${pointer}.tsas`, `must list 1 to ${MAX_TSAS} TSAs`);
  const tsas = v.tsas.map((t, i) => parseTsa(file, `${pointer}.tsas[${i}]`, t, dataDir));
  const require = v.require ?? 'any';
  if (require !== 'any' && require !== 'all') invalid(file, `${pointer}.require`, 'must be "any" or "all"');
  if (v.policyOid !== undefined && (typeof v.policyOid !== 'string' || !OID_PATTERN.test(v.policyOid)))
    invalid(file, `${pointer}.policyOid`, 'must be a dotted object identifier such as 1.2.3.4');
  return {
    kind: 'rfc3161',
    id,
    tsas,
    require,
    ...(v.policyOid === undefined ? {} : { policyOid: v.policyOid }),
    epochMs: durationMs(file, `${pointer}.epochMs`, v.epochMs, DEFAULT_EPOCH_MS, MIN_EPOCH_MS, MAX_EPOCH_MS),
  };
}

/** The anchoring section of config.json, checked in full: anything unknown or malformed is CONFIG_INVALID. */
export function parseAnchoringConfig(raw: unknown, file: string, dataDir: string): AnchoringConfig {
  const none: AnchoringConfig = {
    targets: new Map(),
    leaderTimeoutMs: DEFAULT_LEADER_TIMEOUT_MS,
    fallbackAfterMs: 3 * DEFAULT_LEADER_TIMEOUT_MS,
    maxClockSkewMs: DEFAULT_MAX_CLOCK_SKEW_MS,
    tickMs: DEFAULT_ANCHOR_TICK_MS,
  };
  if (raw === undefined) return none;
  if (!isObject(raw)) invalid(file, '', 'must be an object {targets, ...}');
  onlyMembers(file, '', raw, ANCHORING_MEMBERS);
  const targets = new Map<string, AnchorTargetConfig>();
  if (raw.targets !== undefined) {
    if (!isObject(raw.targets)) invalid(file, '.targets', 'must be an object of target id → settings');
    for (const [id, v] of Object.entries(raw.targets)) {
      if (id.startsWith('rfc3161:')) targets.set(id, parseRfc3161(file, id, v, dataDir));
      else if (id.startsWith('eip155:')) targets.set(id, parseEvmTarget(file, id, v, dataDir));
      else if (id.startsWith('btc:')) targets.set(id, parseBitcoinTarget(file, id, v, dataDir));
      else invalid(file, `.targets["${id}"]`, 'is not a target id (rfc3161:<name>, eip155:<chain id>, btc:<network>)');
    }
  }
  const leaderTimeoutMs = durationMs(
    file,
    '.leaderTimeoutMs',
    raw.leaderTimeoutMs,
    DEFAULT_LEADER_TIMEOUT_MS,
    100,
    86_400_000,
  );
  return {
    targets,
    leaderTimeoutMs,
    fallbackAfterMs: durationMs(file, '.fallbackAfterMs', raw.fallbackAfterMs, 3 * leaderTimeoutMs, 100, 86_400_000),
    maxClockSkewMs: durationMs(file, '.maxClockSkewMs', raw.maxClockSkewMs, DEFAULT_MAX_CLOCK_SKEW_MS, 0, 3_600_000),
    tickMs: durationMs(file, '.tickMs', raw.tickMs, DEFAULT_ANCHOR_TICK_MS, 10, 60_000),
  };
}
