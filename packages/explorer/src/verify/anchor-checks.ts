import {
  RemembrancerError,
  anchorNotRun,
  anchorsMember,
  errorMessage,
  parseCadenceTarget,
  parseJsonStrict,
  parseReceipt,
  parseRegistryVersions,
  receiptAnchorTrust,
  verifyAnchors,
  type AnchorVerificationResult,
  type RegistrySet,
} from '@vaultmesh/core';
import type { CheckRow } from './receipt-checks.ts';

/** What the user trusts for anchors, as typed or pasted on the Verify page. */
export interface AnchorTrustText {
  /** A federation registry: one version, or `{versions: [...]}` as GET /v1/federation/registry?all=1 serves it. */
  registry: string;
  /** PEM certificates of the TSAs' CAs (RFC 3161 evidence chains to one of them). */
  tsaCa: string;
  /** Targets that must have a verified anchor (`remembrancer verify --require`), by spaces or commas. */
  requiredTargets: string;
}

/** The checks of one member of the receipt's `anchors`, as `remembrancer verify` prints them. */
export interface AnchorSection {
  index: number;
  ok: boolean;
  /** Where and when it was anchored, once its federation receipt parsed. */
  target?: string;
  epoch?: number;
  rows: CheckRow[];
}

export interface AnchorCheckResult {
  ok: boolean;
  /** How many anchors the receipt has (0 for entry and sealed receipts without any). */
  count: number;
  /** The trust the anchors are checked against (registry, TSA CAs, required targets), parsed. */
  trust: CheckRow[];
  anchors: AnchorSection[];
  /** Receipt-level verdicts on the anchors: malformed, or a required target without a verified anchor. */
  requirements: CheckRow[];
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function failed(name: string, e: unknown, what: string): CheckRow {
  return e instanceof RemembrancerError
    ? { name, ok: false, code: e.code, detail: `${what}: ${e.message}${e.pointer ? ` (at ${e.pointer})` : ''}` }
    : { name, ok: false, detail: `${what}: ${errorMessage(e)}` };
}

/** Whether an anchor (attacker-controlled) carries RFC 3161 evidence, which needs a TSA CA (as the CLI decides). */
function hasRfc3161Evidence(anchor: unknown): boolean {
  const fr = (anchor as { federation_receipt?: { evidence?: { type?: unknown } } } | null)?.federation_receipt;
  const type = fr?.evidence?.type;
  return type !== 'eip155' && type !== 'btc';
}

function parseRegistryText(text: string, count: number): { row: CheckRow; sets?: RegistrySet[] } {
  if (text.trim() === '') {
    return {
      row: {
        name: 'registry',
        ok: false,
        detail: `the receipt has ${count} anchor(s): give the federation registry to verify them`,
      },
    };
  }
  try {
    const sets = parseRegistryVersions(parseJsonStrict(text));
    const first = sets[0]!;
    const last = sets[sets.length - 1]!;
    const versions = sets.length === 1 ? `version ${first.version}` : `versions ${first.version}–${last.version}`;
    return {
      row: {
        name: 'registry',
        ok: true,
        detail: `${versions} of federation ${first.federation_id}, ${sets.length > 1 ? 'each signed by its predecessor, ' : ''}trusted as given`,
      },
      sets,
    };
  } catch (e) {
    return { row: failed('registry', e, 'the registry is not usable') };
  }
}

function parseTsaCa(text: string, needed: boolean): { row?: CheckRow; pem?: string } {
  const certificates = text.match(PEM_CERTIFICATE)?.length ?? 0;
  if (text.trim() === '') {
    return needed
      ? { row: { name: 'tsa-ca', ok: false, detail: 'the receipt has RFC 3161 evidence: give the TSA CA certificate' } }
      : {};
  }
  if (certificates === 0)
    return { row: { name: 'tsa-ca', ok: false, detail: 'the TSA CA text holds no PEM certificate' } };
  return {
    row: {
      name: 'tsa-ca',
      ok: true,
      detail: `${certificates} PEM certificate(s), the trust anchors of RFC 3161 tokens`,
    },
    pem: text,
  };
}

function parseTargets(text: string): { row?: CheckRow; targets: string[] } {
  const targets = text.split(/[\s,]+/).filter((t) => t !== '');
  for (const t of targets) {
    try {
      parseCadenceTarget(t);
    } catch (e) {
      return { row: failed('required-targets', e, `${t} is not an anchor target`), targets };
    }
  }
  return { targets };
}

function section(r: AnchorVerificationResult): AnchorSection {
  return {
    index: r.index,
    ok: r.ok,
    ...(r.target === undefined ? {} : { target: r.target }),
    ...(r.epoch === undefined ? {} : { epoch: r.epoch }),
    // Checks after the first failure are reported `not run` by core: shown as such, not as failures.
    rows: r.checks.map((c) => ({
      name: c.name,
      ok: c.detail.startsWith('not run') ? undefined : c.ok,
      detail: c.detail,
    })),
  };
}

/**
 * Verifies the anchors of a receipt (attacker-controlled, already parsed as strict JSON) after its
 * own checks, with the code `remembrancer verify --registry --tsa-ca --require` runs (core's
 * anchorsMember, parseRegistryVersions, receiptAnchorTrust, verifyAnchors). Chain evidence is
 * checked offline only: no chain node is asked whether its block is on the chain.
 * `receiptVerified` is whether the receipt's own checks passed: anchors of a receipt that did not
 * verify are not run, as in the CLI. Never rejects.
 */
export async function checkAnchors(
  receipt: unknown,
  receiptVerified: boolean,
  text: AnchorTrustText,
): Promise<AnchorCheckResult> {
  const required = parseTargets(text.requiredTargets);
  const member = anchorsMember(receipt);
  const trust: CheckRow[] = required.row ? [required.row] : [];
  const requirements: CheckRow[] = [];
  let results: AnchorVerificationResult[] = [];
  if (member.kind === 'invalid') {
    requirements.push({ name: 'anchors', ok: false, code: 'RECEIPT_MALFORMED', detail: member.why });
  } else if (member.kind === 'list') {
    const registry = parseRegistryText(text.registry, member.anchors.length);
    const tsa = parseTsaCa(text.tsaCa, member.anchors.some(hasRfc3161Evidence));
    trust.push(registry.row, ...(tsa.row ? [tsa.row] : []));
    const why = !receiptVerified
      ? 'the entry receipt did not verify'
      : trust.some((r) => !r.ok)
        ? 'the trust for anchors is missing or not usable'
        : undefined;
    results =
      why === undefined
        ? await verifyAnchors(
            parseReceipt(receipt),
            member.anchors,
            receiptAnchorTrust({ registries: registry.sets ?? [], tsaTrustAnchorsPem: tsa.pem ? [tsa.pem] : [] }),
          )
        : member.anchors.map((_, i) => anchorNotRun(i, why));
  }
  if (required.row === undefined && required.targets.length > 0) {
    const unmet = required.targets.filter((t) => !results.some((a) => a.ok && a.target === t));
    requirements.push(
      unmet.length === 0
        ? { name: 'required-targets', ok: true, detail: `a verified anchor at ${required.targets.join(', ')}` }
        : { name: 'required-targets', ok: false, detail: `no verified anchor at ${unmet.join(', ')}` },
    );
  }
  const anchors = results.map(section);
  const ok = [...trust, ...requirements].every((r) => r.ok) && anchors.every((a) => a.ok);
  return { ok, count: member.kind === 'list' ? member.anchors.length : 0, trust, anchors, requirements };
}
