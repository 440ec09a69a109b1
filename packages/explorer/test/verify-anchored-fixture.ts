// Real receipts for the Verify page's data-layer tests (not a test file itself): an entry receipt
// of alpha's log cosigned by two witnesses, its C2SP tlog-policy, and anchors of that log made
// with core's builders — one with a token of a real openssl TSA, one with eip155 chain evidence.
// The federation and TSA helpers are core's own test fixtures.
import {
  MemoryTree,
  addSignatures,
  base64Decode,
  base64Encode,
  buildEpochTree,
  buildEvmTxProof,
  buildFederationReceipt,
  buildReceipt,
  buildTimestampRequest,
  canonicalBytes,
  chainEvidenceAttestation,
  crypto,
  encodeEvmAnchorData,
  epochStatementDigest,
  signCheckpoint,
  toHex,
  verifyTimestampToken,
  type EpochStatement,
  type CosignatureSigner,
  type EpochLeaf,
  type EpochTree,
  type EvmChainEvidence,
  type FederationReceiptAnchor,
  type FederationReceiptEvidence,
  type FederationReceiptSignature,
  type NoteSigner,
  type RegistrySet,
} from '@vaultmesh/core';
import {
  TEST_POLICY,
  fixtureDir,
  makeCa,
  makeTsaCert,
  tsToken,
  writeTsaConfig,
} from '../../core/test/timestamp/fixtures/openssl-tsa.ts';

/*
 * Core's own test fixtures (a federation of test peers, EVM transactions and headers), loaded at
 * run time by a computed specifier: they import core's sources, while the explorer's type check
 * sees @vaultmesh/core as its built declarations, and one program with both has two NoteSigner
 * types. What this file uses of them is declared here; at run time (vaultmesh-src) they and
 * @vaultmesh/core are the same modules.
 */
interface TestPeer {
  id: string;
  logSigner(ns: string): NoteSigner;
}
interface FederationFixtures {
  alpha: TestPeer;
  beta: TestPeer;
  gamma: TestPeer;
  registry: RegistrySet;
  sealedLeaf: (
    owner: TestPeer,
    ns: string,
    size: number,
    opts?: { cosigners?: TestPeer[]; allowlist?: TestPeer[]; root?: Uint8Array },
  ) => EpochLeaf;
  signedBy: (s: EpochStatement, signers: readonly TestPeer[]) => FederationReceiptSignature[];
  statementFor: (tree: EpochTree, changes?: Partial<EpochStatement>) => EpochStatement;
  witnessSigner: (p: TestPeer) => CosignatureSigner;
  json: <T>(v: T) => T;
}
interface EvmFixtures {
  rawTx: (type: 2, spec: { nonce?: number; data?: Uint8Array; chainId?: number }) => Uint8Array;
  headerRlp: (transactionsRoot: Uint8Array, number?: number) => Uint8Array;
}
const load = (path: string): Promise<unknown> => import(new URL(path, import.meta.url).href);
const { alpha, beta, gamma, registry, sealedLeaf, signedBy, statementFor, witnessSigner, json } = (await load(
  '../../core/test/anchoring/federation.ts',
)) as FederationFixtures;
const evm = (await load('../../core/test/evm/fixtures.ts')) as EvmFixtures;

export { registry };

const ns = 'dao:vaultmesh';
const origin = `${alpha.id}/${ns}`;
const entries = Array.from({ length: 12 }, (_, i) => ({ kind: 'memo', n: i }));
const log = new MemoryTree();
for (const e of entries) log.append(canonicalBytes(e));

/** The receipt's checkpoint size; anchors are of the log at ANCHORED_SIZE, before it. */
const SIZE = 10;
const ANCHORED_SIZE = 8;
export const ENTRY_INDEX = 5;

/** The namespace's C2SP tlog-policy: alpha's log key, and 2 of the witnesses beta and gamma. */
export const POLICY = `log ${alpha.logSigner(ns).vkey}
witness beta ${witnessSigner(beta).vkey}
witness gamma ${witnessSigner(gamma).vkey}
group ns 2 beta gamma
quorum ns
`;

/** Entry receipt of entry 5 at size 10, cosigned by beta and gamma (what GET /v1/ns/{ns}/receipt/5 serves). */
export function entryReceipt(): Record<string, unknown> {
  const note = signCheckpoint({ origin, size: SIZE, root: log.rootAt(SIZE) }, alpha.logSigner(ns));
  const body = note.slice(0, note.indexOf('\n\n') + 1);
  const cosigned = addSignatures(
    note,
    [beta, gamma].map((w) => witnessSigner(w).cosign(body, 1_740_000_000)),
  );
  return json(
    buildReceipt({
      namespace: ns,
      origin,
      index: ENTRY_INDEX,
      entry: entries[ENTRY_INDEX],
      proof: log.inclusionProof(ENTRY_INDEX, SIZE),
      checkpointNote: cosigned,
    }),
  ) as unknown as Record<string, unknown>;
}

/** The epoch that anchored alpha's log at ANCHORED_SIZE, beside another node's log, at `target`. */
function epoch(target: string) {
  const leaves = [
    sealedLeaf(alpha, ns, ANCHORED_SIZE, { root: log.rootAt(ANCHORED_SIZE) }),
    sealedLeaf(beta, 'dao:treasury', 3, { cosigners: [alpha, gamma], allowlist: [alpha, gamma] }),
  ];
  const tree = buildEpochTree(leaves);
  const statement = statementFor(tree, { target });
  return { tree, statement, digest: epochStatementDigest(statement) };
}

function anchorMember(
  e: ReturnType<typeof epoch>,
  anchor: Pick<FederationReceiptAnchor, 'tx_hash' | 'block' | 'timestamp'>,
  evidence: FederationReceiptEvidence,
) {
  const federationReceipt = buildFederationReceipt({
    statement: e.statement,
    signatures: signedBy(e.statement, [gamma, alpha, beta]),
    tree: e.tree,
    origin,
    anchor,
    evidence,
    finalizedAt: '2025-03-01T12:00:03Z',
    registry,
  });
  return json({
    federation_receipt: federationReceipt,
    consistency: {
      from: ANCHORED_SIZE,
      to: SIZE,
      proof: log.consistencyProof(ANCHORED_SIZE, SIZE).map(base64Encode),
    },
  });
}

export const TSA_TARGET = 'rfc3161:local-tsa';

/** A real TSA (openssl ts) and its CA, in a temporary directory the caller removes with `cleanup`. */
export async function startTsa() {
  const fixture = fixtureDir();
  const ca = await makeCa(fixture.dir, 'ca', 'VaultMesh explorer test CA');
  const otherCa = await makeCa(fixture.dir, 'other-ca', 'Another CA');
  const tsa = await makeTsaCert(fixture.dir, 'tsa', ca, { name: 'VaultMesh explorer test TSA' });
  const config = writeTsaConfig(fixture.dir, 'tsa', tsa);
  let n = 0;
  return {
    caPem: ca.pem,
    otherCaPem: otherCa.pem,
    cleanup: fixture.cleanup,
    /** The anchors member of an RFC 3161 anchor of entry 5's log, its token made by this TSA. */
    async anchor() {
      const e = epoch(TSA_TARGET);
      const request = buildTimestampRequest({ digest: e.digest, nonce: 0x1234n + BigInt(n), policyOid: TEST_POLICY });
      const der = await tsToken(fixture.dir, config, request, `q${n++}`);
      const verified = await verifyTimestampToken(der, { digest: e.digest, trustAnchorsPem: [ca.pem] });
      return anchorMember(
        e,
        { tx_hash: toHex(crypto.sha256(der)), block: verified.serialNumber, timestamp: verified.genTimeIso },
        { type: 'rfc3161', policy: 'any', tokens: [base64Encode(der)] },
      );
    },
  };
}

export const EVM_TARGET = 'eip155:31337';

/** The anchors member of an eip155 anchor of entry 5's log: a transaction of chain 31337 in a block header. */
export function evmAnchor() {
  const e = epoch(EVM_TARGET);
  const s: EpochStatement = e.statement;
  const data = encodeEvmAnchorData({ root: base64Decode(s.root), federationId: s.federation_id, epoch: s.epoch });
  const txs = [evm.rawTx(2, { nonce: 1 }), evm.rawTx(2, { data, nonce: 2, chainId: 31337 })];
  const { root: txRoot, proof } = buildEvmTxProof(txs, 1);
  const header = evm.headerRlp(txRoot, 1234);
  const evidence: EvmChainEvidence = {
    type: 'eip155',
    chain_id: 31337,
    header: `0x${toHex(header)}`,
    tx_index: 1,
    proof: proof.map((p) => `0x${toHex(p)}`),
    tx: `0x${toHex(txs[1]!)}`,
  };
  // What the anchor must say is what the evidence attests (core derives it; the test checks the rest).
  const a = chainEvidenceAttestation(evidence, s);
  return anchorMember(e, { tx_hash: a.tx_hash, block: a.block, timestamp: a.timestamp }, evidence);
}
