import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyChainEvidence, type EpochStatement } from '@vaultmesh/core';
import { startDevTsa, type DevTsa } from '../../packages/node/src/anchoring/index.js';
import { startAnvil, type Anvil } from './harness/anvil.js';
import { startBitcoinRegtest, type BitcoinRegtest } from './harness/bitcoin-regtest.js';
import {
  adminHeaders,
  appendEntries,
  fetchJson,
  type AnchoredReceipt,
  type EpochJson,
} from './harness/anchoring-client.js';
import { runCli } from './harness/cli-process.js';
import { startLocalFederation, waitFor, type LocalFederation } from './harness/local-federation.js';

// Issue 11 item 8: a 3-node federation of real processes anchoring every epoch root to a real
// anvil (EIP-1559 transactions, blocks every second) and a real bcoin regtest node (OP_RETURN,
// blocks mined by the test), next to an RFC 3161 TSA. An entry's receipt carries one anchor per
// target; each verifies offline (verifyChainEvidence, the CLI with --evm-rpc / --btc-rpc and
// --require), tampering fails at the named check, and status shows states and costs.

const EVM = 'eip155:31337';
const BTC = 'btc:regtest';
const TSA = 'rfc3161:chains';
const EPOCH_MS = 3000;
const NS = (i: number) => `chains:n${i}`;

const dir = mkdtempSync(join(tmpdir(), 'remembrancer-e2e-anchoring-chains-'));
let anvil: Anvil;
let btc: BitcoinRegtest;
let tsa: DevTsa;
let fed: LocalFederation;
let miner: ReturnType<typeof setInterval> | undefined;
let minerAddress: string;
let mining = true;

interface ChainStatusJson {
  target: string;
  kind: string;
  chain?: {
    confirmations: number;
    in_flight: { epoch: number; txid: string; state: string; confirmations: number }[];
    recent_events: { epoch: number; txid: string; event: string; detail: string }[];
    costs: {
      anchors: number;
      checkpoints: number;
      unit: string;
      gas_used?: string;
      vbytes?: number;
      fee_total: string;
      fee_per_epoch: string;
      fee_per_checkpoint: string;
    };
  };
  last_finalized: { epoch: number } | null;
}

interface ChainReceiptJson {
  statement: EpochStatement;
  anchor: { target: string; tx_hash: string; block: string; timestamp: string };
  evidence: Record<string, unknown> & { type: string };
}

async function mineOne(): Promise<void> {
  await btc.call('generatetoaddress', [1, minerAddress]);
}

/** The first attempt in `state` at `target` on any node, with the node it is on. */
async function inFlight(
  target: string,
  state: string,
): Promise<{ node: number; epoch: number; txid: string } | undefined> {
  for (let i = 0; i < fed.nodes.length; i++) {
    const a = (await chainStatus(i, target)).chain!.in_flight.find((x) => x.state === state);
    if (a !== undefined) return { node: i, epoch: a.epoch, txid: a.txid };
  }
  return undefined;
}

async function chainStatus(i: number, target: string): Promise<ChainStatusJson> {
  const r = await fetchJson<{ targets: ChainStatusJson[] }>(`${fed.nodes[i]!.url}/v1/anchoring/status`);
  assert.equal(r.status, 200);
  const t = r.body.targets.find((x) => x.target === target);
  assert.ok(t, `status shows ${target}`);
  return t;
}

/** The receipt of entry `index` of node i's namespace once it carries an anchor at every target. */
async function fullyAnchored(i: number, index: number): Promise<AnchoredReceipt | undefined> {
  try {
    const r = await fetchJson<AnchoredReceipt>(`${fed.nodes[i]!.url}/v1/ns/${NS(i)}/receipt/${index}?anchored=1`);
    if (r.status !== 200) return undefined;
    const targets = new Set(r.body.anchors.map((a) => a.federation_receipt.statement.target));
    return targets.has(EVM) && targets.has(BTC) && targets.has(TSA) ? r.body : undefined;
  } catch {
    return undefined;
  }
}

before(async () => {
  anvil = await startAnvil({ args: ['--block-time', '1'] });
  btc = await startBitcoinRegtest();
  minerAddress = await btc.walletAddress();
  await btc.fund();
  miner = setInterval(() => {
    if (mining) mineOne().catch(() => undefined);
  }, 1000);
  tsa = await startDevTsa({ dir: join(dir, 'tsa'), name: 'chains' });
  fed = await startLocalFederation(
    dir,
    3,
    { checkpointIntervalMs: 100 },
    {
      // Every node sends from an account of its own (its nonces are its own); the wallet is shared.
      nodeConfig: (i, nodeDir) => {
        writeFileSync(join(nodeDir, 'evm.key'), `${anvil.keys[i + 1]}\n`, { mode: 0o600 });
        writeFileSync(join(nodeDir, 'btc.pass'), `${btc.apiKey}\n`, { mode: 0o600 });
        return {
          anchoring: {
            targets: {
              [TSA]: { tsas: [{ url: tsa.url, trustAnchors: [tsa.caCertPem] }], epochMs: EPOCH_MS },
              [EVM]: {
                rpcUrl: anvil.url,
                keyFile: 'evm.key',
                maxFeePerGasWei: '200000000000',
                confirmations: 2,
                epochMs: EPOCH_MS,
                pollMs: 200,
                leaderTimeoutMs: 8000,
                replaceAfterMs: 2000,
              },
              [BTC]: {
                rpcUrl: btc.rpcUrl,
                walletUrl: btc.walletUrl,
                passwordFile: 'btc.pass',
                maxFeeRateSatVb: 50,
                fallbackFeeRateSatVb: 2,
                confirmations: 2,
                epochMs: EPOCH_MS,
                pollMs: 200,
                leaderTimeoutMs: 8000,
                replaceAfterMs: 60_000,
              },
            },
            leaderTimeoutMs: 1500,
            maxClockSkewMs: 300,
            tickMs: 100,
          },
        };
      },
    },
  );
  for (const [i, node] of fed.nodes.entries()) {
    const r = await fetchJson(`${node.url}/v1/ns/${NS(i)}`, {
      method: 'PUT',
      headers: adminHeaders(node),
      body: JSON.stringify({
        witness_policy: { min_required: 1, allowlist: fed.nodes.filter((_, j) => j !== i).map((x) => x.name) },
        cadence: {
          fast: { target: TSA, every: '1s', confirmations: 0 },
          strong: { target: EVM, every: '1s', confirmations: 2 },
          cold: { target: BTC, every: '1s', confirmations: 2 },
        },
      }),
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
});

after(async () => {
  if (miner !== undefined) clearInterval(miner);
  await fed?.stopAll();
  await Promise.allSettled([anvil?.stop(), btc?.stop(), tsa?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('chain anchors in a 3-node federation (real anvil, real bcoin regtest)', { timeout: 240_000 }, () => {
  let receipt: AnchoredReceipt;

  test('every entry gets anchors at the TSA, the EVM chain and Bitcoin; each chain anchor verifies offline', async () => {
    for (let i = 0; i < 3; i++) await appendEntries(fed.nodes[i]!, NS(i), 0, 3);
    receipt = await waitFor('anchors at all three targets', () => fullyAnchored(0, 1), 90_000);
    for (const a of receipt.anchors) {
      const fr = a.federation_receipt as unknown as ChainReceiptJson;
      if (fr.statement.target === TSA) continue;
      const v = verifyChainEvidence(fr.evidence as never, fr.statement);
      assert.ok(v.ok, JSON.stringify(v.checks));
      assert.equal(v.attests!.tx_hash, fr.anchor.tx_hash);
      assert.equal(v.attests!.block, fr.anchor.block);
    }
  });

  test('status shows final anchors with their costs, per epoch and per namespace checkpoint', async () => {
    for (const target of [EVM, BTC]) {
      const s = await chainStatus(0, target);
      assert.ok(s.chain, JSON.stringify(s));
      assert.equal(s.chain.confirmations, 2);
      const c = s.chain.costs;
      // Costs are counted by the node that anchored; some node led at least one epoch.
      const all = await Promise.all([0, 1, 2].map((i) => chainStatus(i, target)));
      const anchors = all.reduce((n, x) => n + x.chain!.costs.anchors, 0);
      assert.ok(anchors >= 1, `${target}: ${JSON.stringify(all.map((x) => x.chain!.costs))}`);
      const led = all.find((x) => x.chain!.costs.anchors > 0)!.chain!.costs;
      assert.ok(BigInt(led.fee_total) > 0n);
      assert.ok(led.checkpoints >= led.anchors);
      if (target === EVM) assert.ok(BigInt(led.gas_used!) >= 21_000n * BigInt(led.anchors));
      else assert.ok(led.vbytes! > 0);
      assert.equal(c.unit, target === EVM ? 'wei' : 'sats');
      assert.ok(all.some((x) => x.chain!.recent_events.some((e) => e.event === 'final')));
    }
  });

  test('the CLI verifies every anchor, asks the chains with --evm-rpc / --btc-rpc, and --require holds', async () => {
    const node = fed.nodes[0]!;
    // More entries make later epochs, whose anchors the tampering below swaps in.
    await appendEntries(node, NS(0), 3, 3);
    const policy = await fetch(`${node.url}/v1/ns/${NS(0)}/policy`, { signal: AbortSignal.timeout(10_000) });
    const files = {
      receipt: join(dir, 'receipt.json'),
      tampered: join(dir, 'tampered.json'),
      policy: join(dir, 'policy.txt'),
      registry: join(dir, 'registry.json'),
      ca: join(dir, 'tsa-ca.pem'),
    };
    writeFileSync(files.policy, await policy.text());
    writeFileSync(files.receipt, JSON.stringify(receipt));
    writeFileSync(files.registry, JSON.stringify(fed.registry));
    writeFileSync(files.ca, tsa.caCertPem);
    const common = ['--policy', files.policy, '--registry', files.registry, '--tsa-ca', files.ca];
    const btcRpc = btc.rpcUrl.replace('http://', `http://x:${btc.apiKey}@`);
    const ok = await runCli([
      'verify',
      files.receipt,
      ...common,
      '--evm-rpc',
      anvil.url,
      '--btc-rpc',
      btcRpc,
      '--confirmations',
      '2',
      '--require',
      BTC,
      '--require',
      EVM,
    ]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /receipt verified to 3 anchor\(s\)/);
    assert.match(
      ok.stdout,
      /eip155 evidence over the epoch statement verifies: 0x[0-9a-f]{64} at .* confirmation\(s\) at http/,
    );
    assert.match(
      ok.stdout,
      /btc evidence over the epoch statement verifies: [0-9a-f]{64} at .* confirmation\(s\) at http/,
    );
    assert.doesNotMatch(ok.stdout, new RegExp(btc.apiKey));

    // Offline only: the chain position is said to be unchecked, and the receipt still verifies.
    const offline = await runCli(['verify', files.receipt, ...common]);
    assert.equal(offline.code, 0, offline.stdout + offline.stderr);
    assert.match(offline.stdout, /its place on the chain not checked \(--evm-rpc\)/);

    // A target the receipt has no anchor at is required: FAIL.
    const missing = await runCli(['verify', files.receipt, ...common, '--require', 'eip155:1']);
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /no verified anchor at eip155:1 \(--require\)/);

    // Tampering fails at the named check. `data`/`op-return`: the valid evidence of another
    // epoch's anchor (a real transaction in a real block, committing another root).
    const other = (target: string, epoch: number) =>
      waitFor(
        `another finalized epoch at ${target}`,
        async () => {
          const r = await fetchJson<{ epochs: EpochJson[] }>(
            `${node.url}/v1/anchoring/epochs?target=${encodeURIComponent(target)}&limit=100`,
          );
          const e = r.body.epochs.find((x) => x.status === 'finalized' && x.epoch !== epoch);
          return e?.federation_receipts[0]?.evidence as unknown as Record<string, unknown> | undefined;
        },
        45_000,
      );
    const flip = (hex: string, at: number) => hex.slice(0, at) + (hex[at] === '0' ? '1' : '0') + hex.slice(at + 1);
    const cases: {
      name: string;
      evm: (e: Record<string, unknown>, epoch: number) => Promise<void> | void;
      btc: (e: Record<string, unknown>, epoch: number) => Promise<void> | void;
      evmCheck: string;
      btcCheck: string;
    }[] = [
      {
        name: 'header',
        evm: (e) => void (e['header'] = (e['header'] as string).slice(0, -2)),
        btc: (e) => void (e['header'] = (e['header'] as string).slice(0, -2)),
        evmCheck: 'header',
        // 79 bytes are no Bitcoin header: the receipt's form check refuses it before any hashing.
        btcCheck: 'format',
      },
      {
        name: 'proof',
        evm: (e) => {
          const proof = e['proof'] as string[];
          proof[0] = flip(proof[0]!, 10);
        },
        btc: (e) => void (e['index'] = (e['index'] as number) + 1),
        evmCheck: 'tx-proof',
        btcCheck: 'merkle-branch',
      },
      {
        name: 'data',
        evm: async (e, epoch) => void Object.assign(e, await other(EVM, epoch)),
        btc: async (e, epoch) => void Object.assign(e, await other(BTC, epoch)),
        evmCheck: 'data',
        btcCheck: 'op-return',
      },
    ];
    for (const c of cases) {
      const tampered = JSON.parse(JSON.stringify(receipt)) as AnchoredReceipt;
      for (const a of tampered.anchors) {
        const fr = a.federation_receipt as unknown as ChainReceiptJson;
        if (fr.evidence.type === 'eip155') await c.evm(fr.evidence, fr.statement.epoch);
        if (fr.evidence.type === 'btc') await c.btc(fr.evidence, fr.statement.epoch);
      }
      writeFileSync(files.tampered, JSON.stringify(tampered));
      const bad = await runCli(['verify', files.tampered, ...common]);
      assert.equal(bad.code, 1, `${c.name}: ${bad.stdout}`);
      assert.match(
        bad.stdout,
        new RegExp(`FAIL anchor\\[\\d\\] anchor: the eip155 evidence does not verify: .*check ${c.evmCheck}:`),
        c.name,
      );
      assert.match(
        bad.stdout,
        c.btcCheck === 'format'
          ? /FAIL anchor\[\d\] format: \/evidence\/header: must be lowercase hex of exactly 80 bytes/
          : new RegExp(`FAIL anchor\\[\\d\\] anchor: the btc evidence does not verify: .*check ${c.btcCheck}:`),
        c.name,
      );
    }
  });

  test('Bitcoin: a reorganisation (invalidateblock) drops an anchor before its confirmations; it is sent again and made final', async () => {
    mining = false;
    try {
      await appendEntries(fed.nodes[1]!, NS(1), 3, 2);
      const sent = await waitFor('a Bitcoin anchor in the mempool', () => inFlight(BTC, 'pending'), 30_000);
      await mineOne();
      const included = await waitFor('the anchor in a block, 1 confirmation', async () => {
        const s = await chainStatus(sent.node, BTC);
        return s.chain!.in_flight.find((a) => a.txid === sent.txid && a.state === 'included');
      });
      assert.equal(included.confirmations, 1, 'not final before its confirmations');
      const tx = (await btc.call('getrawtransaction', [sent.txid, 1])) as { blockhash: string };
      await btc.invalidateBlock(tx.blockhash);
      await waitFor('the reorganisation in the anchor history', async () => {
        const s = await chainStatus(sent.node, BTC);
        return s.chain!.recent_events.find((e) => e.txid === sent.txid && e.event === 'reorged');
      });
      mining = true;
      const final = await waitFor(
        'the anchor final in another block',
        async () => {
          const s = await chainStatus(sent.node, BTC);
          return s.chain!.recent_events.find((e) => e.epoch === sent.epoch && e.event === 'final');
        },
        30_000,
      );
      assert.doesNotMatch(final.detail, new RegExp(tx.blockhash));
    } finally {
      mining = true;
    }
  });

  test('EVM: a stuck anchor is replaced with a higher fee; a reorganisation (anvil_reorg) drops it; it ends final', async () => {
    await anvil.rpc('evm_setIntervalMining', [0]);
    let sent: { node: number; epoch: number; txid: string } | undefined;
    try {
      await appendEntries(fed.nodes[2]!, NS(2), 3, 2);
      sent = await waitFor('an EVM anchor pending', () => inFlight(EVM, 'pending'), 30_000);
      const { node, epoch } = sent;
      // Not mined for longer than replaceAfterMs: the sender replaces it (same nonce, more fee).
      const replacement = await waitFor('a replacement', async () => {
        const s = await chainStatus(node, EVM);
        return s.chain!.recent_events.find((e) => e.epoch === epoch && e.event === 'replacement');
      });
      assert.match(replacement.detail, /^replaces 0x[0-9a-f]{64}: /);
      await anvil.rpc('evm_mine', []);
      const included = await waitFor('the replacement in a block', async () => {
        const s = await chainStatus(node, EVM);
        return s.chain!.in_flight.find((a) => a.epoch === epoch && a.state === 'included');
      });
      assert.equal(included.txid, replacement.txid, 'the replacement, not the original, is mined');
      assert.equal(included.confirmations, 1);
      await anvil.rpc('anvil_reorg', [1, []]);
      await waitFor('the reorganisation in the anchor history', async () => {
        const s = await chainStatus(node, EVM);
        return s.chain!.recent_events.find((e) => e.txid === included.txid && e.event === 'reorged');
      });
    } finally {
      await anvil.rpc('evm_setIntervalMining', [1]);
    }
    const { node, epoch } = sent;
    await waitFor(
      'the anchor final after the reorganisation',
      async () => {
        const s = await chainStatus(node, EVM);
        return s.chain!.recent_events.find((e) => e.epoch === epoch && e.event === 'final');
      },
      30_000,
    );
  });

  test('leader failover mid-anchor: the leader dies after sending; the next leader anchors the epoch; the dead one catches up', async () => {
    await anvil.rpc('evm_setIntervalMining', [0]);
    let sent: { node: number; epoch: number; txid: string } | undefined;
    try {
      await appendEntries(fed.nodes[0]!, NS(0), 6, 2);
      sent = await waitFor('an EVM anchor pending', () => inFlight(EVM, 'pending'), 30_000);
      await fed.kill(sent.node);
    } finally {
      await anvil.rpc('evm_setIntervalMining', [1]);
    }
    const { node: dead, epoch } = sent;
    const alive = [0, 1, 2].filter((i) => i !== dead);
    const finalized = await waitFor(
      `epoch ${epoch} finalized by a failover leader`,
      async () => {
        for (const i of alive) {
          const r = await fetchJson<{ epochs: EpochJson[] }>(
            `${fed.nodes[i]!.url}/v1/anchoring/epochs?target=${encodeURIComponent(EVM)}&limit=100`,
          );
          const e = r.body.epochs.find((x) => x.epoch === epoch && x.status === 'finalized');
          if (e) return e;
        }
        return undefined;
      },
      60_000,
    );
    assert.notEqual(finalized.leader, fed.nodes[dead]!.name);
    const fr = finalized.federation_receipts[0]!;
    const v = verifyChainEvidence(fr.evidence as never, fr.statement as never);
    assert.ok(v.ok, JSON.stringify(v.checks));
    const failovers = await Promise.all(
      alive.map(
        async (i) =>
          (
            await fetchJson<{ targets: { target: string; failovers: number }[] }>(
              `${fed.nodes[i]!.url}/v1/anchoring/status`,
            )
          ).body.targets.find((t) => t.target === EVM)!.failovers,
      ),
    );
    assert.ok(
      failovers.some((n) => n >= 1),
      `failovers ${JSON.stringify(failovers)}`,
    );

    // Back up, the node learns the outcome from its peers; its own transaction is no longer in flight.
    await fed.restart(dead);
    await waitFor(
      `epoch ${epoch} finalized on the restarted node`,
      async () => {
        const r = await fetchJson<{ epochs: EpochJson[] }>(
          `${fed.nodes[dead]!.url}/v1/anchoring/epochs?target=${encodeURIComponent(EVM)}&limit=100`,
        );
        return r.body.epochs.find((x) => x.epoch === epoch && x.status === 'finalized');
      },
      60_000,
    );
    const s = await chainStatus(dead, EVM);
    assert.ok(!s.chain!.in_flight.some((a) => a.epoch === epoch), JSON.stringify(s.chain!.in_flight));
  });

  test('a cadence asking a chain target for more confirmations than this node makes final is refused', async () => {
    const node = fed.nodes[0]!;
    const r = await fetchJson<{ code: string; message: string }>(`${node.url}/v1/ns/${NS(0)}/cadence`, {
      method: 'PUT',
      headers: adminHeaders(node),
      body: JSON.stringify({ strong: { target: EVM, every: '1s', confirmations: 3 } }),
    });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.code, 'POLICY_INVALID');
    assert.match(r.body.message, /more than this node's eip155:31337 target makes an anchor final at \(2\)/);
  });

  test('/metrics reports chain anchor costs', async () => {
    const text = await (await fetch(`${fed.nodes[0]!.url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    assert.match(text, /remembrancer_chain_anchor_fee\{target="eip155:31337",unit="wei"\}/);
    assert.match(text, /remembrancer_chain_anchor_fee\{target="btc:regtest",unit="sats"\}/);
  });
});
