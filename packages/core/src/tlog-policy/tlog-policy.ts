/**
 * A transparency log trust policy, https://c2sp.org/tlog-policy: the logs whose checkpoints are
 * accepted, the witnesses, the groups built from them, and the quorum a checkpoint's cosignatures
 * must meet. Plain data: parseTlogPolicy builds it from text, formatTlogPolicy writes it back.
 */
export interface TlogPolicy {
  readonly logs: readonly TlogPolicyLog[];
  readonly witnesses: readonly TlogPolicyWitness[];
  /** In definition order: a group only names witnesses and groups defined before it. */
  readonly groups: readonly TlogPolicyGroup[];
  /** The name of a witness or group, or `none` (TLOG_POLICY_NONE): no cosignature required. */
  readonly quorum: string;
}

/** `log <vkey> [<url>]`: an Ed25519 (0x01) vkey whose key name is the log's origin. */
export interface TlogPolicyLog {
  readonly vkey: string;
  readonly url?: string;
}

/** `witness <name> <vkey> [<url>]`: a cosignature/v1 (0x04) vkey under a name local to the policy. */
export interface TlogPolicyWitness {
  readonly name: string;
  readonly vkey: string;
  readonly url?: string;
}

/** `group <name> <all|any|k> <member>...`: witnessed iff at least `threshold` members witnessed. */
export interface TlogPolicyGroup {
  readonly name: string;
  /** 1 ≤ threshold ≤ members.length (`any` is 1, `all` is members.length). */
  readonly threshold: number;
  readonly members: readonly string[];
}

/** https://c2sp.org/tlog-policy#defining-the-quorum: the predefined name for "no cosignatures". */
export const TLOG_POLICY_NONE = 'none';

/**
 * Limits on policy complexity. The spec strongly recommends supporting at least 32 logs, 32
 * witnesses and 32 groups (https://c2sp.org/tlog-policy#implementation-limits); 256 each leaves
 * ample room (a federation registry holds at most 256 peers) while bounding the work a hostile
 * policy file can cause.
 */
export const MAX_TLOG_POLICY_LOGS = 256;
export const MAX_TLOG_POLICY_WITNESSES = 256;
export const MAX_TLOG_POLICY_GROUPS = 256;
/** Bound on the whole text (in UTF-16 code units), checked before any parsing. */
export const MAX_TLOG_POLICY_LENGTH = 1024 * 1024;
