import { join } from 'node:path';
import { buildEpochTree } from '@vaultmesh/core';
import type { AnchorStorage } from '../../src/anchoring/anchor-storage.js';
import type { ChainAttempt } from '../../src/anchoring/chain/chain-sender.js';
import type { EpochFinalization } from '../../src/anchoring/epoch-finalization.js';
import { PgAnchorStorage } from '../../src/anchoring/pg-anchor-storage.js';
import { SqliteAnchorStorage } from '../../src/anchoring/sqlite-anchor-storage.js';
import { CADENCE_DB_FILE } from '../../src/namespaces/cadence-store.js';
import type { CadenceStorage } from '../../src/namespaces/cadence-storage.js';
import { PgCadenceStorage } from '../../src/namespaces/pg-cadence-storage.js';
import { SqliteCadenceStorage } from '../../src/namespaces/sqlite-cadence-storage.js';
import type { WriteFence } from '../../src/storage/postgres/write-fence.js';
import type { StorePlace } from '../storage/backend-suite.js';
import { TARGET, alpha, beta, gamma, sealedLeaf, statementFor } from '../../../core/test/anchoring/federation.js';

/** The anchoring storage of the place's backend; the same place opens the same state again. */
export async function openAnchorStorage(place: StorePlace, fence?: WriteFence): Promise<AnchorStorage> {
  if (place.kind === 'sqlite') return new SqliteAnchorStorage(join(place.dir, 'anchoring.sqlite'));
  return PgAnchorStorage.open({ db: place.url, ...(fence === undefined ? {} : { fence }) });
}

/** A node's anchoring and cadence storages at the place (in one database on PostgreSQL), as the node names them. */
export async function nodeStoragesAt(
  place: StorePlace,
): Promise<{ anchoring: AnchorStorage; cadence: CadenceStorage }> {
  const anchoring = await openAnchorStorage(place);
  const cadence =
    place.kind === 'sqlite'
      ? SqliteCadenceStorage.open(join(place.dir, CADENCE_DB_FILE))
      : await PgCadenceStorage.open({ db: place.url });
  return { anchoring, cadence };
}

export { LOST_LEASE, code } from '../storage/conformance-checks.js';

/** A finalized collaborative epoch at TARGET anchoring alpha's dao:one at `size` and beta's dao:two at 3. */
export function finalization(epoch: number, size = 7, token = 'AAAA'): EpochFinalization {
  const tree = buildEpochTree([
    sealedLeaf(alpha, 'dao:one', size),
    sealedLeaf(beta, 'dao:two', 3, { cosigners: [alpha, gamma], allowlist: [alpha, gamma] }),
  ]);
  const statement = statementFor(tree, { epoch });
  return {
    statement,
    leaves: tree.leaves,
    signatures: [],
    anchor: {
      batch_root: statement.root,
      target: TARGET,
      tx_hash: 'ab',
      block: '1',
      timestamp: '2026-12-04T00:00:00Z',
    },
    evidence: { type: 'rfc3161', policy: 'any', tokens: [token] },
    finalized_at: '2026-12-04T00:00:01Z',
    leader: alpha.id,
    attempt: 0,
  };
}

export const ONE = `${alpha.id}/dao:one`;
export const TWO = `${beta.id}/dao:two`;
export { TARGET };

/** A signed Bitcoin attempt as the journal keeps it (its contents are opaque to the store). */
export function attempt(txid: string, replaces?: string): ChainAttempt {
  return {
    txid,
    raw: `02${txid}`,
    inputs: ['aa:0'],
    fee: { kind: 'btc', feeRateSatVb: 2, feeSats: '300', vbytes: 150 },
    ...(replaces === undefined ? {} : { replaces }),
  };
}
