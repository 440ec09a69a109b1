/*
 * The anchoring cadence of a namespace (issue 4, item 6): up to three levels, each naming where the
 * namespace's roots get anchored, how often, and how many confirmations count as final.
 * `fast` is frequent and cheap, `strong` and `cold` are rarer and may be given as multiples of the
 * levels below them.
 */

export const CADENCE_LEVELS = ['fast', 'strong', 'cold'] as const;

export type CadenceLevelName = (typeof CADENCE_LEVELS)[number];

export interface CadenceLevel {
  /** `eip155:<chainId>`, `btc:<network>` or `rfc3161:<tsa name>`; see cadence-target.ts. */
  target: string;
  /** `89s`, `5m`, `12h`, `1d`, or `N*fast` / `N*strong`; see cadence-every.ts. */
  every: string;
  /** Blocks on top of the anchoring transaction before it counts; always 0 for a TSA. */
  confirmations: number;
}

/** Any subset of levels; `{}` means the namespace is not anchored. */
export type CadenceSpec = Partial<Record<CadenceLevelName, CadenceLevel>>;

export function isCadenceLevelName(v: unknown): v is CadenceLevelName {
  return typeof v === 'string' && (CADENCE_LEVELS as readonly string[]).includes(v);
}
