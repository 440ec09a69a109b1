import type { MessagingRules, NamespaceSpec } from '@vaultmesh/core';

/** GET /v1/ns/{ns} as the CLI reads it (docs/api.md). */
export interface NamespaceView extends NamespaceSpec {
  id: string;
  origin: string;
  log_vkey: string;
  size: number;
  checkpoint_size: number;
  version: number;
  created_at: string;
  updated_at: string;
  cadence_schedule?: Record<string, { target: string; every: string; next_due: string }>;
  pending?: { index: number; schema: string; effective_after: string }[];
  governance?: { index: number; schema: string; effective: boolean; effective_after: string };
}

/** `ns show` for people: identity, size and every rule in force. */
export function describe(n: NamespaceView): string {
  const lines = [
    `${n.id}  (rules version ${n.version}, ${n.visibility})`,
    `  origin       ${n.origin}`,
    `  log vkey     ${n.log_vkey}`,
    `  size         ${n.size} (checkpointed ${n.checkpoint_size})`,
  ];
  if (n.description) lines.push(`  description  ${n.description}`);
  if (n.witness_policy) {
    const w = n.witness_policy;
    lines.push(`  witnesses    ${w.min_required} of [${w.allowlist.join(', ')}] seal a checkpoint`);
  }
  if (n.schema_policy) lines.push(`  schemas      ${n.schema_policy.allow.join(', ') || '(none allowed)'}`);
  if (n.writers)
    lines.push(
      `  writers      ${n.writers.length ? n.writers.map((w) => ('ed25519' in w ? `${w.id} (key)` : `${w.id} (token: ${w.scopes.join('+')})`)).join(', ') : '(admin token only)'}`,
    );
  if (n.limits) {
    const l = n.limits;
    const rate = l.rate_per_second === null ? 'unlimited' : `${l.rate_per_second}/s burst ${l.burst}`;
    lines.push(
      `  limits       entry ≤ ${l.max_entry_bytes} B, rate ${rate}, quota ${l.quota_entries ?? '∞'} entries / ${l.quota_bytes ?? '∞'} B`,
    );
  }
  if (n.messaging) lines.push(`  messaging    ${describeMessaging(n.messaging)}`);
  for (const [level, s] of Object.entries(n.cadence_schedule ?? {}))
    lines.push(`  cadence      ${level}: ${s.target} every ${s.every}, next due ${s.next_due}`);
  for (const p of n.pending ?? [])
    lines.push(`  pending      ${p.schema} (governance #${p.index}) effective after ${p.effective_after}`);
  return lines.join('\n');
}

/** The messaging rules in one line: whom the namespace takes messages from, and which. */
function describeMessaging(m: MessagingRules): string {
  if (m.accept_from.length === 0) return 'accepts no messages';
  const witnesses = m.min_witnesses === 0 ? '' : `, source checkpoint cosigned by ≥ ${m.min_witnesses} witnesses`;
  return `accepts ${m.actions.join('/')} of operations ${m.operations.join(', ')} from ${m.accept_from.join(', ')}${witnesses}`;
}

/** The spec members of a view: the base that `ns set-policy --sign-with` merges into. */
export function pickSpec(v: NamespaceView): NamespaceSpec {
  return {
    description: v.description,
    visibility: v.visibility,
    witness_policy: v.witness_policy,
    schema_policy: v.schema_policy,
    writers: v.writers,
    limits: v.limits,
    cadence: v.cadence,
    messaging: v.messaging,
  };
}
