import { RemembrancerError, chainEvidenceAttestation, chainEvidenceMembers } from '@vaultmesh/core';
import type { BitcoinTargetConfig, EvmTargetConfig } from '../../config/anchoring-config.js';
import { readSecret } from '../../config/anchoring-members.js';
import type { AnchorTarget } from '../anchor-target.js';
import { BitcoinSender } from '../bitcoin/bitcoin-sender.js';
import { bitcoinRpc, type BitcoinRpc } from '../bitcoin/bitcoin-rpc.js';
import { EvmSender } from '../evm/evm-sender.js';
import { ChainAnchorJob } from './chain-anchor-job.js';
import { bitcoinBlockConfirmations, evmBlockConfirmations } from './chain-confirmations.js';
import type { ChainSender } from './chain-sender.js';

/*
 * An `eip155:` or `btc:` anchor target (issue 11): the epoch root goes into one transaction,
 * followed to the target's confirmations by ChainAnchorJob; the receipt's anchor fields are the
 * transaction id, the block hash and the block's time, the evidence what verifyChainEvidence
 * checks offline.
 */

function evmSender(cfg: EvmTargetConfig): EvmSender {
  return new EvmSender({
    chainId: cfg.chainId,
    rpcUrl: cfg.rpcUrl,
    privateKey: readSecret(cfg.keyFile) as `0x${string}`,
    maxFeePerGasWei: cfg.maxFeePerGasWei,
    maxPriorityFeePerGasWei: cfg.maxPriorityFeePerGasWei,
    ...(cfg.to === undefined ? {} : { to: cfg.to }),
    timeoutMs: cfg.rpcTimeoutMs,
  });
}

function bitcoinRpcs(cfg: BitcoinTargetConfig): { node: BitcoinRpc; wallet: BitcoinRpc } {
  const password = readSecret(cfg.passwordFile);
  const common = { password, user: cfg.rpcUser, timeoutMs: cfg.rpcTimeoutMs };
  return { node: bitcoinRpc({ url: cfg.rpcUrl, ...common }), wallet: bitcoinRpc({ url: cfg.walletUrl, ...common }) };
}

export function chainAnchorTarget(cfg: EvmTargetConfig | BitcoinTargetConfig): AnchorTarget {
  let sender: ChainSender;
  let confirmations: (blockHash: string, height: number) => Promise<number>;
  if (cfg.kind === 'eip155') {
    sender = evmSender(cfg);
    confirmations = (hash, height) => evmBlockConfirmations(cfg.rpcUrl, cfg.rpcTimeoutMs, hash, height);
  } else {
    const rpc = bitcoinRpcs(cfg);
    sender = new BitcoinSender({
      network: cfg.network,
      rpc: rpc.node,
      wallet: rpc.wallet,
      fallbackFeeRateSatVb: cfg.fallbackFeeRateSatVb,
      maxFeeRateSatVb: cfg.maxFeeRateSatVb,
      confTarget: cfg.confTarget,
    });
    confirmations = (hash) => bitcoinBlockConfirmations(rpc.node, hash);
  }
  return {
    config: cfg,
    async anchor(statement, context) {
      if (statement.target !== cfg.id)
        throw new RemembrancerError('INVALID_ARGUMENT', `a statement of ${statement.target} sent to ${cfg.id}`);
      const job = new ChainAnchorJob({
        sender,
        journal: context.journal,
        policy: { confirmations: cfg.confirmations, replaceAfterMs: cfg.replaceAfterMs, pollMs: cfg.pollMs },
        now: context.now,
        stopping: context.stopping,
      });
      const done = await job.run(statement);
      // The receipt's fields come from the evidence as every verifier derives them, and the
      // evidence is checked here as peers will check it: a sender's slip fails now, not there.
      const evidence = chainEvidenceMembers(
        'FEDERATION_RECEIPT_MALFORMED',
        done.evidence.evidence,
        '/evidence',
        cfg.kind,
      );
      const attests = chainEvidenceAttestation(evidence, statement);
      return {
        anchor: {
          batch_root: statement.root,
          target: cfg.id,
          tx_hash: attests.tx_hash,
          block: attests.block,
          timestamp: attests.timestamp,
        },
        evidence,
        requests: done.broadcasts,
      };
    },
    confirmations,
    async close() {
      await sender.close?.();
    },
  };
}
