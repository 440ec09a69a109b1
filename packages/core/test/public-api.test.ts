import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as core from '@vaultmesh/core';

// The runtime names of @vaultmesh/core, by the groups of src/index.ts. Adding a name to the package
// root is a deliberate change: add it here and document it in docs/core-api.md.
const PUBLIC = [
  // errors
  ['RemembrancerError', 'errorMessage', 'isRemembrancerError', 'pointerToken'],
  // bytes, base64, crypto provider
  ['crypto', 'base64Decode', 'base64Encode', 'bytesEqual', 'constantTimeEqual', 'toHex', 'utf8Decode', 'utf8Encode'],
  // JCS and strict JSON
  ['MAX_JSON_DEPTH', 'canonicalBytes', 'canonicalize', 'isJsonObject', 'parseJsonStrict', 'parseJsonStrictAsync'],
  // entries
  ['MAX_ENTRY_BYTES', 'MAX_ENTRY_DEPTH', 'MAX_RECEIPT_ENTRY_DEPTH', 'entryLeafData'],
  // Merkle trees
  [
    'CompactRange',
    'EMPTY_ROOT',
    'HASH_SIZE',
    'MemoryTree',
    'consistencyProof',
    'consistencyProofPlan',
    'hashRange',
    'inclusionProof',
    'inclusionProofPlan',
    'isConsistencyValid',
    'isInclusionValid',
    'leafHash',
    'nodeHash',
    'prefixRootFromConsistencyProof',
    'rangeDecomposition',
    'rootAt',
    'rootFromInclusionProof',
    'verifyConsistency',
    'verifyInclusion',
  ],
  // signed notes
  [
    'NoteSigner',
    'NoteVerifier',
    'SIGNATURE_TYPE_COSIGNATURE_V1',
    'SIGNATURE_TYPE_ED25519',
    'addSignatures',
    'formatKeyId',
    'formatNote',
    'formatSignatureLine',
    'parseNote',
    'parseSignatureLine',
    'parseVkey',
    'verifyNote',
    'verifyParsedNote',
  ],
  // checkpoints
  ['formatCheckpoint', 'openCheckpoint', 'parseCheckpoint', 'signCheckpoint'],
  // cosignatures
  ['CosignatureSigner', 'CosignatureVerifier', 'collectCosignatures', 'splitTimestampedSignature', 'verifyCosignature'],
  // tlog-proof
  ['parseTlogProof', 'verifyTlogProof'],
  // tlog-policy
  [
    'TLOG_POLICY_NONE',
    'evaluateTlogPolicy',
    'formatTlogPolicy',
    'parseTlogPolicy',
    'parseTlogPolicyBytes',
    'verifyCheckpointPolicy',
  ],
  // tlog-tiles
  [
    'MAX_TILE_LEVEL',
    'TILE_HEIGHT',
    'TILE_WIDTH',
    'encodeEntryBundle',
    'formatTileIndex',
    'formatTilePath',
    'fullTileCount',
    'leavesPerTileHash',
    'parseEntryBundle',
    'parseTilePath',
    'tileWidthAt',
  ],
  // tlog-witness texts
  [
    'MAX_WITNESS_BODY_BYTES',
    'TLOG_SIZE_CONTENT_TYPE',
    'formatAddCheckpointRequest',
    'formatCosignatureResponse',
    'formatSizeResponse',
    'isWitnessOriginHash',
    'parseAddCheckpointRequest',
    'parseCosignatureResponse',
    'parseSizeResponse',
    'witnessOriginHash',
  ],
  // receipts
  ['buildReceipt', 'parseReceipt', 'parseReceiptJson', 'receiptBuilder', 'verifyReceipt', 'verifyReceiptWith'],
  // peer request signatures
  [
    'DEFAULT_MAX_SKEW_SECONDS',
    'signRequest',
    'verifyContentDigest',
    'verifyRequestSignature',
    'verifyRequestSignatureHeaders',
  ],
  // federation registry
  [
    'DIGEST_PATTERN',
    'ENDPOINT_PATTERN',
    'FEDERATION_ID_PATTERN',
    'NODE_NAME_PATTERN',
    'UTC_TIMESTAMP_PATTERN',
    'activePeers',
    'createGenesis',
    'isUtcTimestamp',
    'logVerifierForOrigin',
    'parseRegistry',
    'peerAuthKeyName',
    'peerAuthPublicKey',
    'peerByAuthKeyId',
    'peerById',
    'peerForOrigin',
    'peerLogKeyName',
    'peerWitnessKeyName',
    'proposeNext',
    'registryApprovals',
    'registryDigest',
    'signRegistry',
    'verifyGenesis',
    'verifyRegistryChain',
    'verifyRegistryTransition',
  ],
  // equivocation evidence
  [
    'MAX_CONSISTENCY_PROOF_HASHES',
    'MAX_EVIDENCE_NOTE_LENGTH',
    'ORIGIN_PATTERN',
    'buildEquivocationEvidence',
    'parseEquivocationEvidence',
    'signEvidence',
    'verifyEvidence',
    'verifyEvidenceWithRegistry',
  ],
  // namespaces, writers, signed documents
  [
    'NAMESPACE_ID_PATTERN',
    'SIGNATURES_MEMBER',
    'WRITER_ID_PATTERN',
    'acceptsSource',
    'assertNamespaceId',
    'checkMessageAccepted',
    'defaultMessagingRules',
    'defaultNamespaceSpec',
    'documentSignatures',
    'parseMessagingRules',
    'parseNamespaceSpec',
    'publicKeyBase64',
    'signDocument',
    'signingBytes',
    'specInForce',
    'verifyDocumentSignature',
  ],
  // entry schemas
  ['SCHEMA_ID_PATTERN', 'allowsAnyEntry', 'compareVersions', 'isSchemaId', 'parseSchemaId', 'schemaAllowed'],
  // anchoring cadence
  [
    'CADENCE_LEVELS',
    'MAX_CADENCE_CONFIRMATIONS',
    'TSA_NAME_PATTERN',
    'cadencePeriodsMs',
    'isCadenceLevelName',
    'nextDueAfter',
    'parseCadence',
    'parseCadenceTarget',
  ],
  // governance
  [
    'GOVERNANCE_NAMESPACE',
    'GOVERNANCE_SCHEMAS',
    'MAX_SCHEMA_DEFINITION_DEPTH',
    'advanceGovernance',
    'buildCadenceSet',
    'buildNamespaceCreate',
    'buildNamespacePolicySet',
    'buildSchemaRegister',
    'checkGovernanceSubmission',
    'parseGovernanceDocument',
    'parseGovernanceOperators',
    'replayGovernance',
    'signGovernanceDocument',
    'verifyGovernanceSignatures',
  ],
  // collaborative anchoring: epochs, statements, federation receipts
  [
    'EPOCH_EVIDENCE_TYPE',
    'EPOCH_STATEMENT_FORMAT',
    'FEDERATION_RECEIPT_CHECKS',
    'FEDERATION_RECEIPT_FORMAT',
    'MAX_RECEIPT_ANCHORS',
    'RECEIPT_ANCHOR_CHECKS',
    'anchorNotRun',
    'anchorQuorum',
    'anchorSigners',
    'anchorsMember',
    'buildEpochEquivocationEvidence',
    'buildEpochTree',
    'buildFederationReceipt',
    'chainEvidenceAttestation',
    'chainEvidenceMembers',
    'compareEpochLeaves',
    'countEpochSignatures',
    'epochEndMs',
    'epochLeader',
    'epochLeafData',
    'epochNumber',
    'epochStartMs',
    'epochStatementBytes',
    'epochStatementConflict',
    'epochStatementDigest',
    'offlineChainEvidenceVerifier',
    'parseEpochEquivocationEvidence',
    'parseEpochLeaf',
    'parseEpochStatement',
    'parseFederationReceipt',
    'parseRegistryVersions',
    'receiptAnchorTrust',
    'requiredEpochSignatures',
    'rfc3161EvidenceVerifier',
    'signEpochEquivocationEvidence',
    'signEpochStatement',
    'verifyEpochEquivocation',
    'verifyEpochEquivocationWithRegistry',
    'verifyEpochLeaf',
    'verifyAnchors',
    'verifyEpochStatementSignature',
    'verifyFederationReceipt',
    'verifyChainEvidence',
    'verifyReceiptAnchor',
  ],
  // cross-namespace messages and delivery records
  [
    'MAX_MESSAGE_PARAMETERS_DEPTH',
    'MAX_MESSAGE_PROOF_LENGTH',
    'MESSAGE_ACTIONS',
    'MESSAGE_DELIVERY_FORMAT',
    'MESSAGE_FORMAT',
    'MESSAGE_OPERATION_PATTERN',
    'MESSAGE_PROOF_CHECKS',
    'NODE_BUILT_FORMATS',
    'buildMessage',
    'buildMessageDelivery',
    'messageEntry',
    'messageEntryBytes',
    'messageId',
    'parseMessage',
    'parseMessageDelivery',
    'refuseNodeBuiltFormat',
    'verifyMessageProof',
    'withProof',
  ],
  // RFC 3161 timestamps
  ['buildTimestampRequest', 'randomNonce', 'verifyTimestampResponse', 'verifyTimestampToken'],
  // Bitcoin anchors: hashes, headers, transactions, Merkle branches, OP_RETURN, offline verification
  [
    'BITCOIN_ANCHOR_CHECKS',
    'BLOCK_HEADER_BYTES',
    'MAX_BITCOIN_BRANCH_LENGTH',
    'bitcoinBlockHash',
    'doubleSha256',
    'fromDisplayHex',
    'bitcoinMerkleBranch',
    'bitcoinMerkleRoot',
    'opReturnPayload',
    'opReturnScript',
    'parseBlockHeader',
    'parseTransaction',
    'bitcoinRootFromBranch',
    'toDisplayHex',
    'bitcoinTxid',
    'verifyBitcoinAnchor',
  ],
  // OpenTimestamps export of a Bitcoin anchor
  ['bitcoinOtsProof'],
  // EVM anchors: calldata layout, headers, transactions, transaction-trie proofs, offline verification
  [
    'EVM_ANCHOR_CHECKS',
    'EVM_ANCHOR_DATA_BYTES',
    'MAX_EVM_HEADER_BYTES',
    'MAX_EVM_PROOF_NODES',
    'MAX_EVM_TX_BYTES',
    'buildEvmTxProof',
    'decodeEvmAnchorData',
    'decodeEvmBlockHeader',
    'decodeEvmTransaction',
    'encodeEvmAnchorData',
    'evmBlockHash',
    'evmTxFromProof',
    'verifyEvmAnchor',
  ],
].flat();

// Internals that tests reach by relative path; none of them is part of the contract.
const INTERNAL = [
  'cosignedMessage',
  'computeKeyId',
  'signNote',
  'generateKeyPair',
  'openCheckpointNote',
  'parseEmbeddedCheckpoint',
  'decodeReceipt',
  'formatTlogProof',
  'compileTlogPolicy',
  'policyCosigners',
  'parseSfDictionary',
  'signatureBase',
  'contentDigest',
  'registrySigningBytes',
  'checkRegistrySuccession',
  'emptyGovernanceState',
  'governanceRuleViolation',
  'objectWith',
  'refuse',
  'utf8ByteLength',
  'epochLeafMembers',
  'epochStatementMembers',
  'epochEvidenceSigningBytes',
  'requireMembers',
  'ByteReader',
  'checkMessageWindow',
  'exactObject',
  'messageEndpoint',
  'timestampNs',
];

test('the runtime names of @vaultmesh/core are exactly the listed public API', () => {
  const actual = Object.keys(core).sort();
  const expected = [...PUBLIC].sort();
  assert.equal(new Set(PUBLIC).size, PUBLIC.length, 'a name is listed twice');
  assert.deepEqual(
    { added: actual.filter((n) => !expected.includes(n)), missing: expected.filter((n) => !actual.includes(n)) },
    { added: [], missing: [] },
  );
  assert.deepEqual(actual, expected);
});

test('internals of @vaultmesh/core are not exported', () => {
  for (const name of INTERNAL) assert.ok(!(name in core), `${name} is exported`);
});

test('docs/core-api.md documents every public name and type', () => {
  const doc = readFileSync(new URL('../../../docs/core-api.md', import.meta.url), 'utf8');
  // Types leave no runtime trace: read them from the export lists of the package root.
  const index = readFileSync(new URL('../src/index.ts', import.meta.url), 'utf8');
  const types = [
    ...[...index.matchAll(/\btype (\w+)\b/g)].map((m) => m[1]!),
    ...[...index.matchAll(/export type \{([^}]*)\}/g)].flatMap((m) => m[1]!.split(',').map((t) => t.trim())),
  ];
  assert.ok(types.includes('ErrorCode') && types.includes('JsonObject'));
  const undocumented = [
    ...PUBLIC.filter((name) => !doc.includes('`' + name)),
    ...types.filter((t) => !doc.includes('`type ' + t + '`')),
  ];
  assert.deepEqual(undocumented, []);
});
