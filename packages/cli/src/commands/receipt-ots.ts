import {
  RemembrancerError,
  base64Decode,
  bytesEqual,
  isJsonObject,
  parseFederationReceipt,
  toHex,
  type EpochStatement,
} from '@vaultmesh/core';
import type { ApiClient } from '../client/api-client.js';
import { anchorsMember } from './anchored-verification.js';

/*
 * `remembrancer receipt … --ots FILE` (issue 11, item 4): the Bitcoin anchor of an anchored
 * receipt as the OpenTimestamps proof the node exports at
 * GET /v1/anchoring/epochs/{target}/{epoch}.ots. Fetched rather than rebuilt here, so the file is
 * byte for byte the node's (one builder, packages/node/src/anchoring/chain/epoch-ots.ts).
 */

// A detached .ots starts with 31 magic bytes, the major version (1) and the file hash op (sha256,
// 0x08); the file digest follows (python-opentimestamps, DetachedTimestampFile.serialize).
const OTS_VERSION_AT = 31;
const OTS_HASH_OP_AT = 32;
const OTS_DIGEST_AT = 33;
const OTS_SHA256 = 0x08;
/** Far more than a proof through one transaction and a block's merkle tree can be (the format caps arguments at 4 KiB). */
const MAX_OTS_BYTES = 64 * 1024;

/**
 * The epoch statement of the receipt's first anchor at a `btc:` target, or undefined when it has
 * none (yet). The receipt comes from the node: each federation receipt is parsed strictly.
 */
export function btcAnchorStatement(receipt: unknown): EpochStatement | undefined {
  const member = anchorsMember(receipt);
  if (member.kind === 'invalid') throw new RemembrancerError('RECEIPT_MALFORMED', member.why);
  if (member.kind === 'none') return undefined;
  for (const anchor of member.anchors) {
    const fr = parseFederationReceipt(isJsonObject(anchor) ? anchor['federation_receipt'] : undefined);
    if (fr.statement.target.startsWith('btc:')) return fr.statement;
  }
  return undefined;
}

/** The targets a receipt is anchored at, for the message when none is Bitcoin. */
function anchoredTargets(receipt: unknown): string[] {
  const member = anchorsMember(receipt);
  if (member.kind !== 'list') return [];
  return member.anchors.map(
    (a) => parseFederationReceipt(isJsonObject(a) ? a['federation_receipt'] : undefined).statement.target,
  );
}

/**
 * The .ots proof of the receipt's Bitcoin anchor, from the node that gave the receipt. NOT_FOUND
 * (exit 1) when the receipt has no Bitcoin anchor. The answer must be a detached proof whose file
 * digest is the anchored epoch root, or it is refused (INTERNAL) rather than written.
 */
export async function fetchReceiptOts(
  client: ApiClient,
  receipt: unknown,
  entry: string,
): Promise<{ ots: Uint8Array; statement: EpochStatement; digest: string }> {
  const statement = btcAnchorStatement(receipt);
  if (statement === undefined) {
    const targets = anchoredTargets(receipt);
    throw new RemembrancerError(
      'NOT_FOUND',
      `the receipt of ${entry} has no Bitcoin anchor (anchored at: ${targets.length === 0 ? 'none yet' : targets.join(', ')}); --wait SECONDS waits for one`,
    );
  }
  const node =
    statement.mode === 'independent' && statement.node !== null ? `?node=${encodeURIComponent(statement.node)}` : '';
  const path = `/v1/anchoring/epochs/${encodeURIComponent(statement.target)}/${statement.epoch}.ots${node}`;
  const res = await client.request('GET', path);
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > MAX_OTS_BYTES) throw new RemembrancerError('INTERNAL', `GET ${path}: ${declared} bytes, not a proof`);
  const ots = new Uint8Array(await res.arrayBuffer());
  const root = base64Decode(statement.root);
  if (
    ots.length > MAX_OTS_BYTES ||
    ots.length < OTS_DIGEST_AT + root.length ||
    ots[OTS_VERSION_AT] !== 1 ||
    ots[OTS_HASH_OP_AT] !== OTS_SHA256 ||
    !bytesEqual(ots.subarray(OTS_DIGEST_AT, OTS_DIGEST_AT + root.length), root)
  )
    throw new RemembrancerError(
      'INTERNAL',
      `GET ${path} did not answer an OpenTimestamps proof of the epoch root ${statement.root}`,
    );
  // `ots verify -d DIGEST FILE`: the "file" of this proof is the epoch root itself.
  return { ots, statement, digest: toHex(root) };
}
