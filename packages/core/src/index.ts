// The public API of @vaultmesh/core, listed by hand: what the node, the CLI, the explorer and
// third-party verifiers use (docs/core-api.md). Folder indexes may export more; tests reach those
// internals by relative path. A new name here is a deliberate change (test/public-api.test.ts).

// Errors: one class with a stable string code per failure
export {
  RemembrancerError,
  errorMessage,
  isRemembrancerError,
  pointerToken,
  type ErrorCode,
  type RemembrancerErrorOptions,
} from './errors.js';

// Bytes, base64 and the crypto provider (node:crypto on the server, @noble in the browser)
export { crypto, type CryptoProvider } from './crypto/index.js';
export {
  base64Decode,
  base64Encode,
  bytesEqual,
  constantTimeEqual,
  toHex,
  utf8Decode,
  utf8Encode,
} from './encoding/index.js';

// Canonical JSON (RFC 8785 JCS) and strict JSON parsing (I-JSON, RFC 7493)
export {
  MAX_JSON_DEPTH,
  canonicalBytes,
  canonicalize,
  isJsonObject,
  parseJsonStrict,
  parseJsonStrictAsync,
  type CanonicalizeOptions,
  type ParseJsonAsyncOptions,
  type ParseJsonOptions,
} from './jcs/index.js';
export type { JsonObject } from './namespace/index.js';

// Entries: leaf data = UTF-8 of the entry's canonical JSON, within the tlog-tiles bound
export { MAX_ENTRY_BYTES, MAX_ENTRY_DEPTH, MAX_RECEIPT_ENTRY_DEPTH, entryLeafData } from './entry/index.js';

// Merkle trees (RFC 6962 hashing; RFC 9162 proofs: verification, and generation from stored subtrees)
export {
  CompactRange,
  EMPTY_ROOT,
  HASH_SIZE,
  MemoryTree,
  consistencyProof,
  consistencyProofPlan,
  hashRange,
  inclusionProof,
  inclusionProofPlan,
  isConsistencyValid,
  isInclusionValid,
  leafHash,
  nodeHash,
  rangeDecomposition,
  rootAt,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
  type SubtreeHashGetter,
  type SubtreeId,
} from './merkle/index.js';
export { prefixRootFromConsistencyProof } from './federation/index.js';

// Signed notes and verifier keys (C2SP signed-note)
export {
  NoteSigner,
  NoteVerifier,
  SIGNATURE_TYPE_COSIGNATURE_V1,
  SIGNATURE_TYPE_ED25519,
  addSignatures,
  formatKeyId,
  formatNote,
  formatSignatureLine,
  parseNote,
  parseSignatureLine,
  parseVkey,
  verifyNote,
  verifyParsedNote,
  type Note,
  type NoteSignature,
  type NoteSignatureVerifier,
  type VerifiedNote,
  type Vkey,
} from './note/index.js';

// Checkpoints (C2SP tlog-checkpoint)
export {
  formatCheckpoint,
  openCheckpoint,
  parseCheckpoint,
  signCheckpoint,
  type Checkpoint,
  type OpenedCheckpoint,
  type ParsedCheckpoint,
} from './checkpoint/index.js';

// Witness cosignatures (C2SP tlog-cosignature, cosignature/v1)
export {
  CosignatureSigner,
  CosignatureVerifier,
  collectCosignatures,
  splitTimestampedSignature,
  verifyCosignature,
  type Cosigner,
} from './cosignature/index.js';

// Proof bundles (C2SP tlog-proof@v1)
export {
  parseTlogProof,
  verifyTlogProof,
  type ParsedTlogProof,
  type TlogProof,
  type TlogProofLeaf,
  type TlogProofVerification,
  type VerifyTlogProofOptions,
} from './tlog-proof/index.js';

// Witness quorum policies (C2SP tlog-policy)
export {
  TLOG_POLICY_NONE,
  evaluateTlogPolicy,
  formatTlogPolicy,
  parseTlogPolicy,
  parseTlogPolicyBytes,
  verifyCheckpointPolicy,
  type FormatTlogPolicyOptions,
  type PolicyVerifiedCheckpoint,
  type TlogPolicy,
  type TlogPolicyEvaluation,
  type TlogPolicyGroup,
  type TlogPolicyLog,
  type TlogPolicyWitness,
} from './tlog-policy/index.js';

// Tiles and entry bundles (C2SP tlog-tiles)
export {
  MAX_TILE_LEVEL,
  TILE_HEIGHT,
  TILE_WIDTH,
  encodeEntryBundle,
  formatTileIndex,
  formatTilePath,
  fullTileCount,
  leavesPerTileHash,
  parseEntryBundle,
  parseTilePath,
  tileWidthAt,
  type TilePath,
} from './tlog-tiles/index.js';

// Witness protocol texts (C2SP tlog-witness)
export {
  MAX_WITNESS_BODY_BYTES,
  TLOG_SIZE_CONTENT_TYPE,
  formatAddCheckpointRequest,
  formatCosignatureResponse,
  formatSizeResponse,
  isWitnessOriginHash,
  parseAddCheckpointRequest,
  parseCosignatureResponse,
  parseSizeResponse,
  witnessOriginHash,
  type AddCheckpointRequest,
  type ParsedAddCheckpointRequest,
} from './witness-protocol/index.js';

// Receipts (vaultmesh.receipt@1): build, parse, verify offline
export {
  buildReceipt,
  parseReceipt,
  parseReceiptJson,
  receiptBuilder,
  verifyReceipt,
  verifyReceiptWith,
  type BuildReceiptInput,
  type Receipt,
  type ReceiptBuilder,
  type ReceiptCheck,
  type ReceiptCheckName,
  type ReceiptPolicyResult,
  type ReceiptSealing,
  type ReceiptTrust,
  type ReceiptVerification,
  type ReceiptVerifiers,
} from './receipt/index.js';

// Peer request signatures (RFC 9421 HTTP Message Signatures, RFC 9530 Content-Digest)
export {
  DEFAULT_MAX_SKEW_SECONDS,
  signRequest,
  verifyContentDigest,
  verifyRequestSignature,
  verifyRequestSignatureHeaders,
  type HeaderValue,
  type SignRequestInput,
  type SignedRequestHeaders,
  type VerifiedRequestSignature,
  type VerifiedSignatureHeaders,
  type VerifyRequestSignatureInput,
} from './http-signature/index.js';

// Federation registry (federation.registry.set@1.0.0): build, sign, verify, look up peers
export {
  DIGEST_PATTERN,
  ENDPOINT_PATTERN,
  FEDERATION_ID_PATTERN,
  NODE_NAME_PATTERN,
  UTC_TIMESTAMP_PATTERN,
  activePeers,
  createGenesis,
  isUtcTimestamp,
  logVerifierForOrigin,
  parseRegistry,
  peerAuthKeyName,
  peerAuthPublicKey,
  peerByAuthKeyId,
  peerById,
  peerForOrigin,
  peerLogKeyName,
  peerWitnessKeyName,
  proposeNext,
  registryApprovals,
  registryDigest,
  signRegistry,
  verifyGenesis,
  verifyRegistryChain,
  verifyRegistryTransition,
  type AnchorStrategy,
  type GenesisInput,
  type PeerRole,
  type PeerStatus,
  type RegistryApprovals,
  type RegistryChanges,
  type RegistryPeer,
  type RegistryQuorum,
  type RegistrySet,
  type RegistrySignature,
} from './federation/index.js';

// Equivocation evidence (federation.equivocation@1.0.0)
export {
  MAX_CONSISTENCY_PROOF_HASHES,
  MAX_EVIDENCE_NOTE_LENGTH,
  ORIGIN_PATTERN,
  buildEquivocationEvidence,
  parseEquivocationEvidence,
  signEvidence,
  verifyEvidence,
  verifyEvidenceWithRegistry,
  type EquivocationEvidence,
  type EquivocationInput,
  type EquivocationReason,
  type EvidenceTrust,
  type UnsignedEquivocationEvidence,
  type VerifiedEquivocation,
} from './federation/index.js';

// Namespaces: ids, specs (policies, messaging rules), writers and signed JSON documents
export {
  NAMESPACE_ID_PATTERN,
  SIGNATURES_MEMBER,
  WRITER_ID_PATTERN,
  acceptsSource,
  assertNamespaceId,
  checkMessageAccepted,
  defaultMessagingRules,
  defaultNamespaceSpec,
  documentSignatures,
  parseMessagingRules,
  parseNamespaceSpec,
  publicKeyBase64,
  signDocument,
  signingBytes,
  specInForce,
  verifyDocumentSignature,
  type CheckMessageAcceptedOptions,
  type DocumentSignature,
  type KeyWriter,
  type MessageToAccept,
  type MessagingRules,
  type NamespaceLimits,
  type NamespaceSpec,
  type NamespaceWriter,
  type RecordedNamespaceSpec,
  type SchemaPolicy,
  type TokenWriter,
  type Visibility,
  type WitnessPolicy,
  type WriterScope,
} from './namespace/index.js';

// Entry schemas: ids (name@MAJOR.MINOR.PATCH) and a namespace's allow list
export {
  SCHEMA_ID_PATTERN,
  allowsAnyEntry,
  compareVersions,
  isSchemaId,
  parseSchemaId,
  schemaAllowed,
  type SchemaId,
  type SchemaVersion,
} from './schema-policy/index.js';

// Anchoring cadence of a namespace
export {
  CADENCE_LEVELS,
  MAX_CADENCE_CONFIRMATIONS,
  TSA_NAME_PATTERN,
  cadencePeriodsMs,
  isCadenceLevelName,
  nextDueAfter,
  parseCadence,
  parseCadenceTarget,
  type CadenceLevel,
  type CadenceLevelName,
  type CadenceSpec,
  type CadenceTarget,
} from './cadence/index.js';

// Governance documents (sys:governance): build, sign, verify, replay
export {
  GOVERNANCE_NAMESPACE,
  GOVERNANCE_SCHEMAS,
  MAX_SCHEMA_DEFINITION_DEPTH,
  advanceGovernance,
  buildCadenceSet,
  buildNamespaceCreate,
  buildNamespacePolicySet,
  buildSchemaRegister,
  checkGovernanceSubmission,
  parseGovernanceDocument,
  parseGovernanceOperators,
  replayGovernance,
  signGovernanceDocument,
  verifyGovernanceSignatures,
  type CadenceSet,
  type CadenceSetInput,
  type GovernanceDocument,
  type GovernanceEntry,
  type GovernanceOperator,
  type GovernanceOperators,
  type GovernanceSchema,
  type GovernanceState,
  type NamespaceCreate,
  type NamespaceCreateInput,
  type NamespacePolicySet,
  type NamespacePolicySetInput,
  type NamespaceState,
  type SchemaRegister,
  type SchemaRegisterInput,
  type SkippedGovernanceEntry,
} from './governance/index.js';

// Collaborative anchoring: epochs, statements, federation receipts
export {
  EPOCH_EVIDENCE_TYPE,
  EPOCH_STATEMENT_FORMAT,
  FEDERATION_RECEIPT_CHECKS,
  FEDERATION_RECEIPT_FORMAT,
  MAX_RECEIPT_ANCHORS,
  RECEIPT_ANCHOR_CHECKS,
  anchorNotRun,
  anchorQuorum,
  anchorSigners,
  anchorsMember,
  buildEpochEquivocationEvidence,
  buildEpochTree,
  buildFederationReceipt,
  chainEvidenceAttestation,
  chainEvidenceMembers,
  compareEpochLeaves,
  countEpochSignatures,
  epochEndMs,
  epochLeader,
  epochLeafData,
  epochNumber,
  epochStartMs,
  epochStatementConflict,
  epochStatementBytes,
  epochStatementDigest,
  offlineChainEvidenceVerifier,
  parseEpochEquivocationEvidence,
  parseEpochLeaf,
  parseEpochStatement,
  parseFederationReceipt,
  parseRegistryVersions,
  receiptAnchorTrust,
  requiredEpochSignatures,
  rfc3161EvidenceVerifier,
  signEpochEquivocationEvidence,
  signEpochStatement,
  verifyEpochEquivocation,
  verifyEpochEquivocationWithRegistry,
  verifyEpochLeaf,
  verifyEpochStatementSignature,
  verifyAnchors,
  verifyFederationReceipt,
  verifyChainEvidence,
  verifyReceiptAnchor,
  type AnchorAttestation,
  type AnchorsMember,
  type AnchorVerificationResult,
  type BitcoinChainEvidence,
  type ChainEvidence,
  type ChainEvidenceCheck,
  type ChainEvidenceVerification,
  type ChainEvidenceVerifier,
  type EvmChainEvidence,
  type BuildFederationReceiptInput,
  type EpochEquivocationEvidence,
  type EpochEquivocationInput,
  type EpochEvidenceTrust,
  type EpochLeaf,
  type EpochMode,
  type EpochSignature,
  type EpochSignatureCount,
  type EpochStatement,
  type EpochTree,
  type FederationReceipt,
  type FederationReceiptAnchor,
  type FederationReceiptCheck,
  type FederationReceiptCheckName,
  type FederationReceiptEvidence,
  type FederationReceiptSignature,
  type FederationReceiptTrust,
  type FederationReceiptVerification,
  type FederationSignatureRole,
  type ReceiptAnchorCheck,
  type ReceiptAnchorCheckName,
  type ReceiptAnchorTrustInput,
  type ReceiptAnchorVerification,
  type Rfc3161Evidence,
  type SignedEpochStatement,
  type UnsignedEpochEquivocationEvidence,
} from './anchoring/index.js';

// Cross-namespace messages (namespace.message@1.0.0) and their delivery records: build, parse, verify offline
export {
  MAX_MESSAGE_PARAMETERS_DEPTH,
  MAX_MESSAGE_PROOF_LENGTH,
  MESSAGE_ACTIONS,
  MESSAGE_DELIVERY_FORMAT,
  MESSAGE_FORMAT,
  MESSAGE_OPERATION_PATTERN,
  MESSAGE_PROOF_CHECKS,
  NODE_BUILT_FORMATS,
  buildMessage,
  buildMessageDelivery,
  messageEntry,
  messageEntryBytes,
  messageId,
  parseMessage,
  parseMessageDelivery,
  refuseNodeBuiltFormat,
  verifyMessageProof,
  withProof,
  type BuildMessageDeliveryInput,
  type BuildMessageInput,
  type MessageAction,
  type MessageDelivery,
  type MessageEndpoint,
  type MessagePayload,
  type MessageProofCheck,
  type MessageProofCheckName,
  type MessageProofVerification,
  type NamespaceMessage,
  type VerifyMessageProofOptions,
} from './message/index.js';

// RFC 3161 timestamps: build a TimeStampReq, verify a TimeStampResp or a stored token offline
export {
  buildTimestampRequest,
  randomNonce,
  verifyTimestampResponse,
  verifyTimestampToken,
  type TimestampExpectation,
  type VerifiedTimestamp,
} from './timestamp/index.js';
export * from './bitcoin/index.js';
export * from './opentimestamps/index.js';
export * from './evm/index.js';
