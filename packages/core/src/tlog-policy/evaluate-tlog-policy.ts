import { TLOG_POLICY_NONE, type TlogPolicy } from './tlog-policy.js';

export interface TlogPolicyEvaluation {
  /** Whether the quorum witnessed the checkpoint (always true for `quorum none`). */
  readonly met: boolean;
  /** Witnesses that cosigned, then groups that witnessed, each in definition order. */
  readonly witnessed: readonly string[];
}

/**
 * Evaluates the quorum (https://c2sp.org/tlog-policy#defining-a-witness-group): a witness has
 * witnessed a checkpoint iff it cosigned it, a group iff at least `threshold` of its members
 * witnessed it. `cosigned` says which policy witnesses (by their policy name) validly cosigned:
 * a predicate or a collection of names; names that are not witnesses of the policy count for
 * nothing, and a name counts once however often it appears. Groups only refer to earlier
 * definitions, so one pass in order suffices.
 */
export function evaluateTlogPolicy(
  policy: TlogPolicy,
  cosigned: ((witnessName: string) => boolean) | Iterable<string>,
): TlogPolicyEvaluation {
  // A lone string is one name, not an iterable of characters.
  const names = typeof cosigned === 'string' ? [cosigned] : cosigned;
  const has =
    typeof names === 'function'
      ? names
      : (
          (set: ReadonlySet<string>) => (n: string) =>
            set.has(n)
        )(new Set(names));
  const witnessed = new Set<string>();
  for (const w of policy.witnesses) if (has(w.name)) witnessed.add(w.name);
  for (const g of policy.groups) {
    let count = 0;
    for (const m of g.members) if (witnessed.has(m)) count++;
    if (count >= g.threshold) witnessed.add(g.name);
  }
  return { met: policy.quorum === TLOG_POLICY_NONE || witnessed.has(policy.quorum), witnessed: [...witnessed] };
}

const MAX_DESCRIPTION = 600;

/**
 * The quorum rule in words, for messages: `X-and-Y = all of (X = 2 of (X1, X2, X3), Y = any of
 * (Y1, Y2))`. Long policies are cut short with an ellipsis.
 */
export function describeTlogQuorum(policy: TlogPolicy): string {
  if (policy.quorum === TLOG_POLICY_NONE) return 'none (no cosignature required)';
  const groups = new Map(policy.groups.map((g) => [g.name, g]));
  let budget = MAX_DESCRIPTION;
  const describe = (name: string): string => {
    if (budget <= 0) return '…';
    const g = groups.get(name);
    budget -= name.length;
    if (g === undefined) return name;
    const k = g.threshold === g.members.length ? 'all' : g.threshold === 1 ? 'any' : String(g.threshold);
    return `${name} = ${k} of (${g.members.map(describe).join(', ')})`;
  };
  const s = describe(policy.quorum);
  return s.length > MAX_DESCRIPTION ? s.slice(0, MAX_DESCRIPTION) + '…' : s;
}
