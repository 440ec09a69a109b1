import { RemembrancerError, errorMessage } from '../errors.js';
import { base64Decode, toHex } from '../encoding/index.js';
import { loneSurrogateAt } from '../jcs/unicode.js';
import { SIGNATURE_TYPE_COSIGNATURE_V1, SIGNATURE_TYPE_ED25519 } from '../note/key-id.js';
import { parseVkey, type Vkey } from '../note/vkey.js';
import { isUtcTimestamp } from './timestamp.js';

/*
 * The federation's peer registry, `federation.registry.set@1.0.0` (schemas/federation.registry.set@1.0.0.json).
 * Each version is a JCS JSON document listing the peers, their keys and the quorums; a version is
 * in force once the previous version's active peers signed it (see registry-verification.ts).
 * Registry documents arrive from peers, so everything here treats its input as attacker-controlled
 * and checks at least what the JSON Schema checks, because core cannot depend on a schema validator.
 */

export const REGISTRY_SCHEMA = 'federation.registry.set@1.0.0';

/** A node name, which is also a peer id: lowercase DNS-like, at most 253 characters. */
export const NODE_NAME_PATTERN = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;
export const FEDERATION_ID_PATTERN = /^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$/;
/** Base URL of a peer's HTTP API: http(s), host, optional port and path; no credentials, query or fragment. */
export const ENDPOINT_PATTERN =
  /^https?:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?(\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?$/;
/** Lowercase hex SHA-256, as `prev` spells the previous version's digest. */
export const DIGEST_PATTERN = /^[0-9a-f]{64}$/;

export const MAX_PEERS = 256;
export const MAX_ENDPOINT_LENGTH = 2048;
/** In Unicode code points, as JSON Schema's maxLength counts. */
export const MAX_MEMO_LENGTH = 4096;
/** Every peer can sign once; duplicates beyond that are refused rather than verified. */
export const MAX_REGISTRY_SIGNATURES = MAX_PEERS;

export const PEER_STATUSES = ['active', 'probation', 'suspended'] as const;
export const PEER_ROLES = ['log', 'witness', 'anchor'] as const;
export const ANCHOR_STRATEGIES = ['collaborative', 'independent', 'hybrid'] as const;

export type PeerStatus = (typeof PEER_STATUSES)[number];
export type PeerRole = (typeof PEER_ROLES)[number];
export type AnchorStrategy = (typeof ANCHOR_STRATEGIES)[number];

export interface RegistryPeer {
  /** The node name, e.g. `alpha.vaultmesh.local`. */
  readonly id: string;
  /** Base URL of the node's HTTP API. */
  readonly endpoint: string;
  /** Ed25519 (0x01) vkey named `<id>`; the node's log key for origin `<id>/<ns>` is this public key under that name. */
  readonly log_vkey: string;
  /** cosignature/v1 (0x04) vkey named `<id>/witness`. */
  readonly witness_vkey: string;
  /** Ed25519 (0x01) vkey named `<id>/peer`: signs peer HTTP requests, registry versions and evidence. */
  readonly auth_key: string;
  readonly status: PeerStatus;
  readonly roles: readonly PeerRole[];
}

export interface RegistryQuorum {
  /** Cosignatures a checkpoint needs to be sealed. */
  readonly witness: number;
  /** Signatures by active peers of this version that the next version needs. */
  readonly registry: number;
}

export interface RegistrySignature {
  readonly peer: string;
  /** base64 Ed25519 signature by the peer's auth key over registrySigningBytes. */
  readonly sig: string;
}

export interface RegistrySet {
  readonly federation_id: string;
  readonly version: number;
  /** Lowercase hex SHA-256 of the previous version's JCS bytes (signatures included); null at version 1. */
  readonly prev: string | null;
  /** RFC 3339 UTC. */
  readonly effective_after: string;
  readonly peers: readonly RegistryPeer[];
  readonly quorum: RegistryQuorum;
  readonly anchor_strategy: AnchorStrategy;
  readonly memo: string;
  readonly signatures: readonly RegistrySignature[];
}

const SET_MEMBERS = [
  'federation_id',
  'version',
  'prev',
  'effective_after',
  'peers',
  'quorum',
  'anchor_strategy',
  'memo',
  'signatures',
];
const PEER_MEMBERS = ['id', 'endpoint', 'log_vkey', 'witness_vkey', 'auth_key', 'status', 'roles'];
const QUORUM_MEMBERS = ['witness', 'registry'];
const SIGNATURE_MEMBERS = ['peer', 'sig'];

function invalid(where: string, why: string, cause?: unknown): never {
  throw new RemembrancerError(
    'REGISTRY_INVALID',
    `registry ${where} ${why}`,
    cause === undefined ? undefined : { cause },
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Exactly the listed members: a signed document with members nobody reads would mislead its readers. */
function strictObject(where: string, v: unknown, members: readonly string[]): Record<string, unknown> {
  if (!isObject(v)) invalid(where, 'must be a JSON object');
  for (const k of Object.keys(v)) {
    if (!members.includes(k)) invalid(where, `has unknown member ${JSON.stringify(k.slice(0, 64))}`);
  }
  for (const k of members) {
    if (!Object.hasOwn(v, k)) invalid(where, `lacks member "${k}"`);
  }
  return v;
}

function patterned(where: string, v: unknown, pattern: RegExp, what: string): string {
  if (typeof v !== 'string' || !pattern.test(v)) invalid(where, `must be ${what}`);
  return v;
}

function positiveInteger(where: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) invalid(where, 'must be an integer of at least 1');
  return v;
}

function oneOf<T extends string>(where: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    invalid(where, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
  }
  return v as T;
}

function typedVkey(where: string, v: unknown, type: number, name: string, what: string): Vkey {
  if (typeof v !== 'string') invalid(where, 'must be a vkey string');
  let k: Vkey;
  try {
    k = parseVkey(v);
  } catch (cause) {
    invalid(where, `is not a valid vkey: ${errorMessage(cause)}`, cause);
  }
  if (k.type !== type) invalid(where, `must be ${what}`);
  if (k.name !== name) invalid(where, `must be named ${JSON.stringify(name)}, not ${JSON.stringify(k.name)}`);
  return k;
}

export function peerLogKeyName(id: string): string {
  return id;
}
export function peerWitnessKeyName(id: string): string {
  return `${id}/witness`;
}
export function peerAuthKeyName(id: string): string {
  return `${id}/peer`;
}

interface ParsedPeer {
  readonly peer: RegistryPeer;
  readonly keys: readonly Vkey[];
  readonly auth: Vkey;
}

function parsePeer(where: string, v: unknown): ParsedPeer {
  const p = strictObject(where, v, PEER_MEMBERS);
  const id = patterned(`${where}.id`, p['id'], NODE_NAME_PATTERN, `a node name matching ${NODE_NAME_PATTERN.source}`);
  const endpoint = p['endpoint'];
  if (typeof endpoint !== 'string' || endpoint.length > MAX_ENDPOINT_LENGTH || !ENDPOINT_PATTERN.test(endpoint)) {
    invalid(
      `${where}.endpoint`,
      `must be an http(s) base URL of at most ${MAX_ENDPOINT_LENGTH} characters, without credentials, query or fragment`,
    );
  }
  const log = typedVkey(
    `${where}.log_vkey`,
    p['log_vkey'],
    SIGNATURE_TYPE_ED25519,
    peerLogKeyName(id),
    'an Ed25519 (type 0x01) vkey',
  );
  const witness = typedVkey(
    `${where}.witness_vkey`,
    p['witness_vkey'],
    SIGNATURE_TYPE_COSIGNATURE_V1,
    peerWitnessKeyName(id),
    'a cosignature/v1 (type 0x04) vkey',
  );
  const auth = typedVkey(
    `${where}.auth_key`,
    p['auth_key'],
    SIGNATURE_TYPE_ED25519,
    peerAuthKeyName(id),
    'an Ed25519 (type 0x01) vkey',
  );
  const status = oneOf(`${where}.status`, p['status'], PEER_STATUSES);
  const rawRoles = p['roles'];
  if (!Array.isArray(rawRoles)) invalid(`${where}.roles`, 'must be an array');
  const roles: PeerRole[] = [];
  for (const r of rawRoles) {
    const role = oneOf(`${where}.roles`, r, PEER_ROLES);
    if (roles.includes(role)) invalid(`${where}.roles`, `lists "${role}" twice`);
    roles.push(role);
  }
  const peer: RegistryPeer = {
    id,
    endpoint,
    log_vkey: p['log_vkey'] as string,
    witness_vkey: p['witness_vkey'] as string,
    auth_key: p['auth_key'] as string,
    status,
    roles,
  };
  return { peer, keys: [log, witness, auth], auth };
}

function parseSignature(where: string, v: unknown): RegistrySignature {
  const s = strictObject(where, v, SIGNATURE_MEMBERS);
  const peer = patterned(`${where}.peer`, s['peer'], NODE_NAME_PATTERN, 'a peer id (node name)');
  const sig = s['sig'];
  let raw: Uint8Array | undefined;
  if (typeof sig === 'string') {
    try {
      raw = base64Decode(sig);
    } catch {
      raw = undefined;
    }
  }
  if (raw?.length !== 64) invalid(`${where}.sig`, 'must be a 64-byte Ed25519 signature in standard base64');
  return { peer, sig: sig as string };
}

/**
 * Checks a registry version (parsed JSON, attacker-controlled) and returns a copy holding exactly
 * its members. Beyond the JSON Schema: peer ids are unique, every key is named after its peer
 * (`<id>`, `<id>/witness`, `<id>/peer`), no public key appears twice in the set (a witness key is
 * never a log key, and no two peers share a key), auth key IDs are unique (peers are looked up by
 * them), and the registry quorum is at most the number of active peers. Signatures are only
 * checked for form here; verifyGenesis and verifyRegistryTransition check them. REGISTRY_INVALID
 * names the offending member.
 */
export function parseRegistry(json: unknown): RegistrySet {
  const s = strictObject('set', json, SET_MEMBERS);
  const federation_id = patterned(
    'federation_id',
    s['federation_id'],
    FEDERATION_ID_PATTERN,
    `a federation id matching ${FEDERATION_ID_PATTERN.source}`,
  );
  const version = positiveInteger('version', s['version']);
  const prevRaw = s['prev'];
  let prev: string | null;
  if (version === 1) {
    if (prevRaw !== null) invalid('prev', 'must be null at version 1');
    prev = null;
  } else {
    prev = patterned('prev', prevRaw, DIGEST_PATTERN, `the lowercase hex SHA-256 of version ${version - 1}`);
  }
  const effective_after = s['effective_after'];
  if (!isUtcTimestamp(effective_after))
    invalid('effective_after', 'must be an RFC 3339 UTC timestamp such as 2025-01-31T12:00:00Z');

  const rawPeers = s['peers'];
  if (!Array.isArray(rawPeers) || rawPeers.length === 0 || rawPeers.length > MAX_PEERS) {
    invalid('peers', `must be an array of 1 to ${MAX_PEERS} peers`);
  }
  const peers: RegistryPeer[] = [];
  const ids = new Set<string>();
  const publicKeys = new Map<string, string>();
  const authKeyIds = new Map<number, string>();
  rawPeers.forEach((raw, i) => {
    const { peer, keys, auth } = parsePeer(`peers[${i}]`, raw);
    if (ids.has(peer.id)) invalid(`peers[${i}].id`, `${JSON.stringify(peer.id)} is listed twice`);
    ids.add(peer.id);
    for (const k of keys) {
      const hex = toHex(k.publicKey);
      const other = publicKeys.get(hex);
      if (other !== undefined)
        invalid(`peers[${i}]`, `key ${JSON.stringify(k.name)} has the same public key as ${JSON.stringify(other)}`);
      publicKeys.set(hex, k.name);
    }
    const clash = authKeyIds.get(auth.keyId);
    if (clash !== undefined)
      invalid(`peers[${i}].auth_key`, `has the same key ID as the auth key of ${JSON.stringify(clash)}`);
    authKeyIds.set(auth.keyId, peer.id);
    peers.push(peer);
  });

  const q = strictObject('quorum', s['quorum'], QUORUM_MEMBERS);
  const quorum: RegistryQuorum = {
    witness: positiveInteger('quorum.witness', q['witness']),
    registry: positiveInteger('quorum.registry', q['registry']),
  };
  const active = peers.filter((p) => p.status === 'active').length;
  if (quorum.registry > active) {
    invalid(
      'quorum.registry',
      `is ${quorum.registry}, more than the ${active} active peers: no later version could ever be signed`,
    );
  }

  const anchor_strategy = oneOf('anchor_strategy', s['anchor_strategy'], ANCHOR_STRATEGIES);
  const memo = s['memo'];
  if (typeof memo !== 'string') invalid('memo', 'must be a string');
  if (loneSurrogateAt(memo) >= 0) invalid('memo', 'contains a lone surrogate');
  if ([...memo].length > MAX_MEMO_LENGTH) invalid('memo', `is longer than ${MAX_MEMO_LENGTH} characters`);

  const rawSigs = s['signatures'];
  if (!Array.isArray(rawSigs) || rawSigs.length > MAX_REGISTRY_SIGNATURES) {
    invalid('signatures', `must be an array of at most ${MAX_REGISTRY_SIGNATURES} signatures`);
  }
  const signatures = rawSigs.map((v, i) => parseSignature(`signatures[${i}]`, v));

  return { federation_id, version, prev, effective_after, peers, quorum, anchor_strategy, memo, signatures };
}
