import { cadenceInvalid } from './cadence-invalid.js';

/*
 * Anchor targets, spelled like CAIP-2 chain ids (`<namespace>:<reference>`,
 * https://github.com/ChainAgnostic/CAIPs/blob/main/CAIPs/caip-2.md). `eip155` references are the
 * decimal EIP-155 chain id as in https://github.com/ChainAgnostic/namespaces/blob/main/eip155/caip2.md;
 * `btc` names a Bitcoin network by the name Bitcoin Core uses for it (CAIP's `bip122` genesis
 * hashes are unreadable in a policy); `rfc3161` names a configured RFC 3161 time-stamping
 * authority (https://www.rfc-editor.org/rfc/rfc3161), which the node maps to a URL and certificate.
 */

export const BTC_NETWORKS = ['mainnet', 'testnet', 'testnet4', 'signet', 'regtest'] as const;
export type BtcNetwork = (typeof BTC_NETWORKS)[number];

/** A configured TSA's name: lowercase, digits, `.`, `_`, `-`, at most 64 characters. */
export const TSA_NAME_PATTERN = /^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$/;
/** Decimal without leading zeros; the range check (1..2^53-1) follows the parse. */
const CHAIN_ID_PATTERN = /^[1-9][0-9]{0,15}$/;
/** Longer strings cannot be valid targets; refusing them early keeps messages short. */
const MAX_TARGET_LENGTH = 80;

export type CadenceTarget =
  | { readonly kind: 'eip155'; readonly chainId: number }
  | { readonly kind: 'btc'; readonly network: BtcNetwork }
  | { readonly kind: 'rfc3161'; readonly tsa: string };

export type CadenceTargetKind = CadenceTarget['kind'];

/**
 * Parses a target string (attacker-controlled: it comes from namespace specs and governance
 * entries). Throws POLICY_INVALID with `pointer` (the target member's pointer, '' by default).
 */
export function parseCadenceTarget(target: unknown, pointer = ''): CadenceTarget {
  if (typeof target !== 'string') cadenceInvalid(pointer, 'must be a string');
  if (target.length > MAX_TARGET_LENGTH) cadenceInvalid(pointer, `must be at most ${MAX_TARGET_LENGTH} characters`);
  const colon = target.indexOf(':');
  const kind = colon < 0 ? '' : target.slice(0, colon);
  const ref = target.slice(colon + 1);
  switch (kind) {
    case 'eip155': {
      const chainId = CHAIN_ID_PATTERN.test(ref) ? Number(ref) : NaN;
      if (!Number.isSafeInteger(chainId)) {
        cadenceInvalid(pointer, 'must be eip155:<chain id>, a decimal integer from 1 to 2^53-1 without leading zeros');
      }
      return { kind: 'eip155', chainId };
    }
    case 'btc': {
      if (!(BTC_NETWORKS as readonly string[]).includes(ref)) {
        cadenceInvalid(pointer, `must be btc:<network>, the network one of ${BTC_NETWORKS.join(', ')}`);
      }
      return { kind: 'btc', network: ref as BtcNetwork };
    }
    case 'rfc3161': {
      if (!TSA_NAME_PATTERN.test(ref))
        cadenceInvalid(pointer, `must be rfc3161:<tsa name>, the name matching ${TSA_NAME_PATTERN.source}`);
      return { kind: 'rfc3161', tsa: ref };
    }
    default:
      return cadenceInvalid(pointer, 'must be eip155:<chain id>, btc:<network> or rfc3161:<tsa name>');
  }
}
