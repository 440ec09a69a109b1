import { RemembrancerError, bytesEqual, parseTransaction, toHex, type BitcoinTransaction } from '@vaultmesh/core';
import type { BitcoinRpcCaller } from './bitcoin-rpc.js';
import { isRpcMethodNotFound, rpcHex, rpcObject, rpcString } from './bitcoin-rpc-answer.js';
import type { BitcoinCoin } from './bitcoin-coins.js';

/*
 * Signing by the wallet that holds the keys. Bitcoin Core (0.17+) signs with
 * `signrawtransactionwithwallet` on the wallet's endpoint. bcoin 1.0.2 (and Bitcoin Core before
 * 0.17) have no such method: there the wallet gives each input's key (`dumpprivkey`) and the node
 * signs with it (`signrawtransactionwithkey`, or the older `signrawtransaction`). The keys live in
 * this process only for the call and are never written anywhere. Which way works is learned once.
 */

type SigningWay = 'wallet' | 'withkey' | 'legacy';

function signedHex(method: string, answer: unknown): Uint8Array {
  const a = rpcObject(method, answer);
  if (a.complete !== true) {
    const errors = Array.isArray(a.errors) ? a.errors : [];
    const first = rpcObject(method, errors[0] ?? {}, 'an error');
    const why = typeof first.error === 'string' ? `: ${first.error.slice(0, 200)}` : '';
    throw new RemembrancerError('CHAIN_RPC_ERROR', `${method} could not sign every input${why}`);
  }
  return rpcHex(method, a.hex, 'a hex');
}

/** Everything but the scripts and witnesses: what signing must leave as it was. */
function sameBody(a: BitcoinTransaction, b: BitcoinTransaction): boolean {
  return (
    a.version === b.version &&
    a.locktime === b.locktime &&
    a.inputs.length === b.inputs.length &&
    a.inputs.every((x, i) => {
      const y = b.inputs[i]!;
      return bytesEqual(x.prevTxid, y.prevTxid) && x.prevIndex === y.prevIndex && x.sequence === y.sequence;
    }) &&
    a.outputs.length === b.outputs.length &&
    a.outputs.every((x, i) => x.value === b.outputs[i]!.value && bytesEqual(x.script, b.outputs[i]!.script))
  );
}

export class BitcoinSigner {
  readonly #rpc: BitcoinRpcCaller;
  readonly #wallet: BitcoinRpcCaller;
  #way: SigningWay = 'wallet';

  constructor(rpc: BitcoinRpcCaller, wallet: BitcoinRpcCaller) {
    this.#rpc = rpc;
    this.#wallet = wallet;
  }

  /**
   * A signer of transactions spending `coins` (in that order): each call returns the transaction
   * given with every input signed and nothing else changed (CHAIN_RPC_ERROR if the node returns
   * anything else, or cannot sign). Keys the wallet must hand out are asked for once, and held
   * by the returned function only.
   */
  forCoins(coins: readonly BitcoinCoin[]): (unsigned: Uint8Array) => Promise<Uint8Array> {
    let keys: Promise<string[]> | undefined;
    const lazyKeys = () => (keys ??= this.#keys(coins));
    return async (unsigned) => {
      const signed = await this.#signed(toHex(unsigned), coins, lazyKeys);
      let body: BitcoinTransaction;
      try {
        body = parseTransaction(signed);
      } catch (cause) {
        throw new RemembrancerError('CHAIN_RPC_ERROR', 'the node signed a transaction that does not parse', { cause });
      }
      if (!sameBody(parseTransaction(unsigned), body)) {
        throw new RemembrancerError('CHAIN_RPC_ERROR', 'the node signed another transaction than the one it was given');
      }
      return signed;
    };
  }

  async #signed(hex: string, coins: readonly BitcoinCoin[], lazyKeys: () => Promise<string[]>): Promise<Uint8Array> {
    if (this.#way === 'wallet') {
      try {
        return signedHex(
          'signrawtransactionwithwallet',
          await this.#wallet.call('signrawtransactionwithwallet', [hex]),
        );
      } catch (e) {
        if (!isRpcMethodNotFound(e)) throw e;
        this.#way = 'withkey';
      }
    }
    const keys = await lazyKeys();
    // bcoin finds the spent outputs itself; Bitcoin Core is given them (segwit signatures commit to amounts).
    const prevtxs = coins.map((c) => ({
      txid: c.txid,
      vout: c.vout,
      scriptPubKey: toHex(c.script),
      amount: c.sats / 1e8,
    }));
    if (this.#way === 'withkey') {
      try {
        return signedHex(
          'signrawtransactionwithkey',
          await this.#rpc.call('signrawtransactionwithkey', [hex, keys, prevtxs]),
        );
      } catch (e) {
        if (!isRpcMethodNotFound(e)) throw e;
        this.#way = 'legacy';
      }
    }
    return signedHex('signrawtransaction', await this.#rpc.call('signrawtransaction', [hex, prevtxs, keys]));
  }

  async #keys(coins: readonly BitcoinCoin[]): Promise<string[]> {
    const keys: string[] = [];
    for (const address of new Set(coins.map((c) => c.address))) {
      if (address === undefined) {
        throw new RemembrancerError(
          'CHAIN_RPC_ERROR',
          'the node shows no address for a coin: its key cannot be asked for',
        );
      }
      keys.push(rpcString('dumpprivkey', await this.#wallet.call('dumpprivkey', [address]), 'a key'));
    }
    return keys;
  }
}
