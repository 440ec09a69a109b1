import { chainEvidenceAttestation, type ChainEvidenceVerifier } from '@vaultmesh/core';
import { bitcoinBlockConfirmations, bitcoinRpc, evmBlockConfirmations } from '@vaultmesh/node';
import { UsageError } from '../output.js';

/** The chain nodes `verify` may ask (`--evm-rpc`, `--btc-rpc`) and the depth it wants (`--confirmations`). */
export interface ChainViews {
  readonly evmRpc?: string;
  readonly btcRpc?: { url: string; user?: string; password: string };
  readonly confirmations: number;
}

const RPC_TIMEOUT_MS = 15_000;

/**
 * `--btc-rpc http://user:password@host:port/` (bitcoind's rpcuser/rpcpassword, or any user and
 * bcoin's API key): the credentials go to the basic-auth header, not into messages.
 */
export function parseBtcRpc(value: string): NonNullable<ChainViews['btcRpc']> {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--btc-rpc ${value} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('--btc-rpc must be an http(s) URL');
  const password = decodeURIComponent(url.password);
  const user = decodeURIComponent(url.username);
  url.username = '';
  url.password = '';
  return { url: url.toString(), ...(user === '' ? {} : { user }), password };
}

export function parseEvmRpc(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--evm-rpc ${value} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('--evm-rpc must be an http(s) URL');
  return value;
}

/**
 * Chain evidence, verified offline (verifyChainEvidence: the transaction is in the block whose
 * header the evidence holds and carries the epoch root), then, when a node of that chain was
 * given, against it: the block must be on its best chain with at least `confirmations` blocks.
 * Without a node the attestation says the chain position was not checked.
 */
export function chainEvidenceVerifier(views: ChainViews): ChainEvidenceVerifier {
  return async (evidence, statement) => {
    const a = chainEvidenceAttestation(evidence, statement);
    const fields = { tx_hash: a.tx_hash, block: a.block, timestamp: a.timestamp };
    let depth: number;
    let where: string;
    if (evidence.type === 'eip155' && views.evmRpc !== undefined) {
      depth = await evmBlockConfirmations(views.evmRpc, RPC_TIMEOUT_MS, a.block, a.height);
      where = views.evmRpc;
    } else if (evidence.type === 'btc' && views.btcRpc !== undefined) {
      depth = await bitcoinBlockConfirmations(bitcoinRpc({ ...views.btcRpc, timeoutMs: RPC_TIMEOUT_MS }), a.block);
      where = views.btcRpc.url;
    } else {
      const option = evidence.type === 'eip155' ? '--evm-rpc' : '--btc-rpc';
      return {
        ...fields,
        note: `block ${a.block} at height ${a.height}; its place on the chain not checked (${option})`,
      };
    }
    if (depth === 0) throw new Error(`block ${a.block} at height ${a.height} is not on the best chain of ${where}`);
    if (depth < views.confirmations)
      throw new Error(`block ${a.block} has ${depth} confirmation(s) at ${where}, ${views.confirmations} required`);
    return { ...fields, note: `block ${a.block} at height ${a.height} has ${depth} confirmation(s) at ${where}` };
  };
}
