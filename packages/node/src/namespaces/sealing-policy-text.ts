import {
  NODE_NAME_PATTERN,
  RemembrancerError,
  TLOG_POLICY_NONE,
  formatTlogPolicy,
  type TlogPolicyGroup,
} from '@vaultmesh/core';

export interface NamespacePolicyWitness {
  /** Peer id (node name): the witness's name in the policy. */
  readonly id: string;
  /** The peer's cosignature/v1 vkey from the registry. */
  readonly vkey: string;
  /** The witness's tlog-witness submission prefix, if known. */
  readonly url?: string;
}

export interface NamespacePolicyTextInput {
  readonly ns: { readonly id: string; readonly origin: string; readonly logVkey: string };
  /** k: distinct witnesses needed; 0 means the log signature alone. */
  readonly minRequired: number;
  /** Allowlisted peers whose keys the registry holds, in allowlist order. */
  readonly witnesses: readonly NamespacePolicyWitness[];
  /** Allowlisted peer ids that cannot count (not in the registry, or suspended), with why. */
  readonly notCounted?: ReadonlyArray<{ readonly id: string; readonly why: string }>;
  /** The node's base URL, written on the log line. */
  readonly logUrl?: string;
}

/** A peer id as a comment may show it: plain if it is a node name, else quoted and escaped. */
function shown(id: string): string {
  return NODE_NAME_PATTERN.test(id) ? id : JSON.stringify(id).replace(/\u007f/g, '\\u007f');
}

/**
 * A namespace's witness policy `{min_required: k, allowlist}` as C2SP tlog-policy text
 * (https://c2sp.org/tlog-policy): the namespace's log, one witness per allowlisted peer (named by
 * its peer id, keyed by its registry witness key), a group needing k of them, and the quorum
 * (`none` when k = 0). A group name holding the namespace id cannot clash with a peer id (node
 * names have no ':'). Fails with POLICY_INVALID when fewer than k allowlisted peers have keys: the
 * format cannot say "k of fewer than k", and a weaker policy must never be served in its place.
 */
export function namespacePolicyText(input: NamespacePolicyTextInput): string {
  const { ns, minRequired: k, witnesses } = input;
  if (!Number.isSafeInteger(k) || k < 0)
    throw new RemembrancerError('POLICY_INVALID', `namespace '${ns.id}' has an invalid min_required ${String(k)}`);
  const comments = [
    `Witness policy of namespace ${ns.id} (https://c2sp.org/tlog-policy): a checkpoint of ${ns.origin} is sealed once ` +
      (k === 0
        ? 'the log signed it (no cosignature required).'
        : `${k} distinct allowlisted witness${k === 1 ? '' : 'es'} cosigned it.`),
  ];
  const notCounted = input.notCounted ?? [];
  if (notCounted.length > 0) {
    comments.push(`Allowlisted but not counted: ${notCounted.map((p) => `${shown(p.id)} (${p.why})`).join(', ')}.`);
  }
  if (k > witnesses.length) {
    throw new RemembrancerError(
      'POLICY_INVALID',
      `namespace '${ns.id}' requires ${k} witnesses but only ${witnesses.length} allowlisted peer${witnesses.length === 1 ? ' has' : 's have'} a witness key in the federation registry` +
        (notCounted.length > 0
          ? ` (not counted: ${notCounted.map((p) => `${shown(p.id)}: ${p.why}`).join(', ')})`
          : ''),
    );
  }
  const groupName = `${ns.id}/witnesses`;
  const groups: TlogPolicyGroup[] =
    k === 0 ? [] : [{ name: groupName, threshold: k, members: witnesses.map((w) => w.id) }];
  return formatTlogPolicy(
    {
      logs: [{ vkey: ns.logVkey, ...(input.logUrl === undefined ? {} : { url: input.logUrl }) }],
      witnesses: witnesses.map((w) => ({ name: w.id, vkey: w.vkey, ...(w.url === undefined ? {} : { url: w.url }) })),
      groups,
      quorum: k === 0 ? TLOG_POLICY_NONE : groupName,
    },
    { comments },
  );
}
