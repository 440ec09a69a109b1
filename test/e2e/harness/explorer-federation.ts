import { join } from 'node:path';
import { startDevTsa, type DevTsa } from '@vaultmesh/node';
import { anchoredReceipt, appendEntries, createAnchoredNamespace } from './anchoring-client.js';
import { singleTsaAnchoring } from './anchoring-checks.js';
import { startLocalFederation, waitFor, type FederationNode, type LocalFederation } from './local-federation.js';
import { messageTo, putNamespace, sendMessage, waitForReceipt, type MessageStatusView } from './messaging-client.js';

/*
 * What the explorer's browser tests and docs screenshots look at: a real 3-node federation that
 * anchors at a dev RFC 3161 TSA (openssl) every second, with
 *   - EXPLORER_NS on alpha, witnessed by beta or gamma, due at the TSA every second, holding
 *     ENTRIES entries (more than two pages of the Namespace page's 20), anchored;
 *   - a message stream alpha/app:a → beta/app:b with one message delivered.
 */

export const ANCHOR_TARGET = 'rfc3161:e2e-tsa';
export const EXPLORER_NS = 'explorer:demo';
export const ENTRIES = 45;
export const SOURCE_NS = 'app:a';
export const TARGET_NS = 'app:b';

export interface ExplorerFederation {
  fed: LocalFederation;
  tsa: DevTsa;
  alpha: FederationNode;
  beta: FederationNode;
  gamma: FederationNode;
  /** The delivered message's view from its sender. */
  message: MessageStatusView;
  /** Stops every node and the TSA (the caller removes `root`). */
  stop(): Promise<void>;
}

/** Starts it all and waits until the message is delivered and the last entry anchored (bounded). */
export async function startExplorerFederation(root: string): Promise<ExplorerFederation> {
  const tsa = await startDevTsa({ dir: join(root, 'tsa') });
  let fed: LocalFederation | undefined;
  const stop = async () => {
    await fed?.stopAll();
    await tsa.stop();
  };
  try {
    fed = await startLocalFederation(root, 3, {
      checkpointIntervalMs: 250,
      anchoring: singleTsaAnchoring(ANCHOR_TARGET, tsa, { epochMs: 1000, leaderTimeoutMs: 1500 }),
    });
    const [alpha, beta, gamma] = fed.nodes as [FederationNode, FederationNode, FederationNode];

    await createAnchoredNamespace(alpha, EXPLORER_NS, [beta.name, gamma.name], ANCHOR_TARGET);
    await appendEntries(alpha, EXPLORER_NS, 0, ENTRIES);

    const sealed = { witness_policy: { min_required: 1, allowlist: [beta.name, gamma.name] } };
    await putNamespace(alpha, SOURCE_NS, { ...sealed, messaging: { accept_from: [], min_witnesses: 1 } });
    await putNamespace(beta, TARGET_NS, {
      messaging: { accept_from: [`${alpha.name}/${SOURCE_NS}`], min_witnesses: 1 },
    });
    const sent = await sendMessage(
      alpha,
      SOURCE_NS,
      messageTo(beta, TARGET_NS, 'notify', 'invoice.issued', { invoice: 'INV-1' }),
    );
    const message = await waitForReceipt(alpha, SOURCE_NS, sent.id, 60_000);

    await waitFor(
      `an anchored receipt of ${EXPLORER_NS} entry ${ENTRIES - 1}`,
      () => anchoredReceipt(alpha, EXPLORER_NS, ENTRIES - 1),
      60_000,
    );
    return { fed, tsa, alpha, beta, gamma, message, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
