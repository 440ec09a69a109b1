import { RemembrancerError } from '@vaultmesh/core';
import type { BitcoinRpcCaller } from './bitcoin-rpc.js';
import { rpcArray, rpcHash, rpcHex, rpcInteger, rpcObject, rpcSats } from './bitcoin-rpc-answer.js';
import { spendableScriptKind, type SpendableScriptKind } from './bitcoin-vsize.js';

/*
 * The coins an anchor spends. The wallet proposes them (listunspent); the node, which validates
 * what is broadcast, says what each one is (gettxout): its value, script, whether it is a coinbase
 * output and how deep. A coin is claimed by this process before anything is awaited about it, so
 * two attempts prepared at once never pick the same one.
 */

/** Coinbase outputs are spendable 100 blocks on (consensus); one more block keeps a transaction
 * spending one valid through a one-block reorganisation under it. */
export const COINBASE_SPEND_CONFIRMATIONS = 101;
/** Inputs per anchor at most: a wallet this fragmented needs consolidating, not bigger anchors. */
export const MAX_ANCHOR_INPUTS = 10;
/** Coins looked up on the node per selection at most (each is one gettxout). */
const MAX_COIN_CHECKS = 50;

export interface BitcoinCoin {
  /** `txid:vout`, as attempts list their inputs. */
  readonly outpoint: string;
  /** Display hex. */
  readonly txid: string;
  readonly vout: number;
  readonly sats: number;
  readonly script: Uint8Array;
  readonly kind: SpendableScriptKind;
  /** The address the node shows for the script (what dumpprivkey takes), if it shows one. */
  readonly address: string | undefined;
}

/** An unspent output as the node sees it. */
export interface NodeCoin {
  readonly sats: number;
  readonly script: Uint8Array;
  readonly address: string | undefined;
  readonly confirmations: number;
  readonly coinbase: boolean;
}

const OUTPOINT = /^([0-9a-f]{64}):(0|[1-9][0-9]{0,9})$/;

export function outpointOf(txid: string, vout: number): string {
  return `${txid}:${vout}`;
}

export function parseOutpoint(outpoint: string): { txid: string; vout: number } {
  const m = OUTPOINT.exec(outpoint);
  if (m === null || Number(m[2]) > 0xffffffff) {
    throw new RemembrancerError('INVALID_ARGUMENT', `${JSON.stringify(outpoint)} is not an outpoint txid:vout`);
  }
  return { txid: m[1]!, vout: Number(m[2]) };
}

/**
 * gettxout: the output `txid:vout` if the node holds it unspent, else undefined. With
 * `includeMempool`, Bitcoin Core also answers undefined for an output a mempool transaction spends
 * (bcoin does not look at mempool spends); without it, only the best chain's UTXO set counts.
 */
export async function nodeCoin(
  rpc: BitcoinRpcCaller,
  txid: string,
  vout: number,
  includeMempool: boolean,
): Promise<NodeCoin | undefined> {
  const method = 'gettxout';
  const answer = await rpc.call(method, [txid, vout, includeMempool]);
  if (answer === null) return undefined;
  const out = rpcObject(method, answer);
  const spk = rpcObject(method, out.scriptPubKey, 'a scriptPubKey');
  // Bitcoin Core 22+ writes `address`; earlier versions and bcoin an `addresses` list.
  const addresses: unknown = spk.addresses;
  const listed: unknown = Array.isArray(addresses) && addresses.length === 1 ? (addresses as unknown[])[0] : undefined;
  const address = typeof spk.address === 'string' ? spk.address : typeof listed === 'string' ? listed : undefined;
  return {
    sats: rpcSats(method, out.value, 'a value'),
    script: rpcHex(method, spk.hex, 'a script'),
    address,
    confirmations: rpcInteger(method, out.confirmations, 'confirmations', 0),
    coinbase: out.coinbase === true,
  };
}

interface Listed {
  readonly txid: string;
  readonly vout: number;
  readonly sats: number;
  readonly confirmations: number;
}

/** The wallet's confirmed coins it would spend itself, best first: deepest, then largest. */
async function walletCandidates(wallet: BitcoinRpcCaller): Promise<Listed[]> {
  const method = 'listunspent';
  const listed = rpcArray(method, await wallet.call(method, [1]));
  const out: Listed[] = [];
  for (const entry of listed) {
    const e = rpcObject(method, entry, 'an entry');
    // Locked (bcoin lists them unspendable; Bitcoin Core not at all), watch-only, or unconfirmed
    // from others (`safe` false): not ours to spend.
    if (e.spendable === false || e.solvable === false || e.safe === false) continue;
    const script = rpcHex(method, e.scriptPubKey, 'a scriptPubKey');
    if (spendableScriptKind(script) === undefined) continue;
    out.push({
      txid: rpcHash(method, e.txid, 'a txid'),
      vout: rpcInteger(method, e.vout, 'a vout', 0),
      sats: rpcSats(method, e.amount, 'an amount'),
      confirmations: rpcInteger(method, e.confirmations, 'confirmations', 0),
    });
  }
  return out.sort((a, b) => b.confirmations - a.confirmations || b.sats - a.sats);
}

export interface CoinSelection {
  readonly rpc: BitcoinRpcCaller;
  readonly wallet: BitcoinRpcCaller;
  /** Outpoints spent by attempts of this process; selection adds what it picks. */
  readonly claimed: Set<string>;
  /** Outpoints known to be coinbase outputs (that never changes), so immature ones are skipped unasked. */
  readonly coinbase: Set<string>;
  /** The sats coins of these kinds must hold together: the fee at the cap and a change output. */
  need(kinds: readonly SpendableScriptKind[]): number;
}

/**
 * Picks and claims confirmed wallet coins worth at least `need` of them, deepest first (mature
 * coinbase outputs before young ones), checking each on the node. Throws CHAIN_FUNDS when the
 * wallet has not enough (the claims made are released), CHAIN_RPC_* when a node fails.
 */
export async function selectCoins(o: CoinSelection): Promise<BitcoinCoin[]> {
  const chosen: BitcoinCoin[] = [];
  let total = 0;
  let checks = 0;
  let skipped = 0;
  const enough = () => chosen.length > 0 && total >= o.need(chosen.map((c) => c.kind));
  try {
    for (const c of await walletCandidates(o.wallet)) {
      if (enough() || chosen.length >= MAX_ANCHOR_INPUTS || checks >= MAX_COIN_CHECKS) break;
      const outpoint = outpointOf(c.txid, c.vout);
      if (o.claimed.has(outpoint)) continue;
      if (o.coinbase.has(outpoint) && c.confirmations < COINBASE_SPEND_CONFIRMATIONS) continue;
      // Claimed before the await: a selection running meanwhile skips it.
      o.claimed.add(outpoint);
      checks++;
      const coin = await nodeCoin(o.rpc, c.txid, c.vout, true);
      if (coin?.coinbase) o.coinbase.add(outpoint);
      const kind = coin === undefined ? undefined : spendableScriptKind(coin.script);
      const usable =
        coin !== undefined &&
        kind !== undefined &&
        coin.confirmations >= 1 &&
        (!coin.coinbase || coin.confirmations >= COINBASE_SPEND_CONFIRMATIONS);
      if (!usable) {
        // Spent since the wallet listed it, immature, or unconfirmed: not this time.
        o.claimed.delete(outpoint);
        skipped++;
        continue;
      }
      chosen.push({
        outpoint,
        txid: c.txid,
        vout: c.vout,
        sats: coin.sats,
        script: coin.script,
        kind,
        address: coin.address,
      });
      total += coin.sats;
    }
  } catch (e) {
    for (const c of chosen) o.claimed.delete(c.outpoint);
    throw e;
  }
  if (!enough()) {
    for (const c of chosen) o.claimed.delete(c.outpoint);
    const need = o.need(chosen.length > 0 ? chosen.map((c) => c.kind) : ['p2pkh']);
    throw new RemembrancerError(
      'CHAIN_FUNDS',
      `the wallet has no confirmed, mature, unclaimed coins worth ${need} sats in ${MAX_ANCHOR_INPUTS} inputs ` +
        `(${chosen.length} found worth ${total} sats; ${skipped} listed coins unusable on the node)`,
    );
  }
  return chosen;
}
