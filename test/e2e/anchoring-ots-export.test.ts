import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBlockHeader, toHex, type EpochStatement } from '@vaultmesh/core';
import { startBitcoinRegtest, type BitcoinRegtest } from './harness/bitcoin-regtest.js';
import { adminHeaders, appendEntries, fetchJson, type AnchoredReceipt } from './harness/anchoring-client.js';
import { runCli } from './harness/cli-process.js';
import { startLocalFederation, type LocalFederation } from './harness/local-federation.js';

// Issue 11, item 4: "The node also exports the anchor as an OpenTimestamps .ots proof …: GET
// /v1/anchoring/epochs/{target}/{epoch}.ots, and `remembrancer receipt --ots`." Two real node
// processes anchor to a real bcoin regtest node; the compiled CLI writes the .ots of an entry's
// Bitcoin anchor, which is byte for byte the route's, and Debian's python3-opentimestamps reads
// it against the block header the chain node serves at that height.

const BTC = 'btc:regtest';
const EPOCH_MS = 2000;
/** Anchored at Bitcoin every second; `plain:n0` has no cadence, so it is never anchored. */
const NS = 'ots:n0';
const PLAIN = 'plain:n0';
const PYTHON = '/usr/bin/python3';

const dir = mkdtempSync(join(tmpdir(), 'remembrancer-e2e-ots-'));
let btc: BitcoinRegtest;
let fed: LocalFederation;
let miner: ReturnType<typeof setInterval> | undefined;

/** Reads the proof with the reference implementation: digest, and per attestation its height and the header check. */
const REFERENCE_CHECK = `
import json, sys
from bitcoin.core import CBlockHeader
from opentimestamps.core.notary import BitcoinBlockHeaderAttestation
from opentimestamps.core.serialize import BytesDeserializationContext
from opentimestamps.core.timestamp import DetachedTimestampFile
f = DetachedTimestampFile.deserialize(BytesDeserializationContext(open(sys.argv[1], 'rb').read()))
header = CBlockHeader.deserialize(open(sys.argv[2], 'rb').read())
out = {'digest': f.file_digest.hex(), 'attestations': []}
for msg, att in f.timestamp.all_attestations():
    entry = {'type': type(att).__name__, 'msg': msg.hex()}
    if isinstance(att, BitcoinBlockHeaderAttestation):
        entry['height'] = att.height
        entry['time'] = att.verify_against_blockheader(msg, header)
    out['attestations'].append(entry)
print(json.dumps(out))
`;

before(
  async () => {
    btc = await startBitcoinRegtest();
    const minerAddress = await btc.walletAddress();
    await btc.fund();
    miner = setInterval(() => {
      btc.call('generatetoaddress', [1, minerAddress]).catch(() => undefined);
    }, 1000);
    fed = await startLocalFederation(
      dir,
      2,
      { checkpointIntervalMs: 100 },
      {
        nodeConfig: (_i, nodeDir) => {
          writeFileSync(join(nodeDir, 'btc.pass'), `${btc.apiKey}\n`, { mode: 0o600 });
          return {
            anchoring: {
              targets: {
                [BTC]: {
                  rpcUrl: btc.rpcUrl,
                  walletUrl: btc.walletUrl,
                  passwordFile: 'btc.pass',
                  maxFeeRateSatVb: 50,
                  fallbackFeeRateSatVb: 2,
                  confirmations: 1,
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
    const node = fed.nodes[0]!;
    for (const [ns, cadence] of [
      [NS, { cold: { target: BTC, every: '1s', confirmations: 1 } }],
      [PLAIN, undefined],
    ] as const) {
      const r = await fetchJson(`${node.url}/v1/ns/${ns}`, {
        method: 'PUT',
        headers: adminHeaders(node),
        body: JSON.stringify({
          witness_policy: { min_required: 1, allowlist: [fed.nodes[1]!.name] },
          ...(cadence ? { cadence } : {}),
        }),
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    await appendEntries(node, NS, 0, 2);
    await appendEntries(node, PLAIN, 0, 1);
  },
  { timeout: 120_000 },
);

after(
  async () => {
    if (miner !== undefined) clearInterval(miner);
    await fed?.stopAll();
    await btc?.stop();
    rmSync(dir, { recursive: true, force: true });
  },
  { timeout: 60_000 },
);

describe('OpenTimestamps export of a Bitcoin anchor (real nodes, real bcoin regtest)', { timeout: 180_000 }, () => {
  test('receipt --ots writes the route’s bytes, and python-opentimestamps verifies them against the block header', async () => {
    const node = fed.nodes[0]!;
    const ots = join(dir, 'entry1.ots');
    const out = join(dir, 'receipt.json');
    const r = await runCli(
      ['receipt', '1', '--ns', NS, '--url', node.url, '--ots', ots, '--out', out, '--wait', '90', '--json'],
      { timeoutMs: 120_000 },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const summary = JSON.parse(r.stdout) as {
      anchored: boolean;
      ots: { file: string; target: string; epoch: number; digest: string };
    };
    assert.equal(summary.anchored, true);
    assert.equal(summary.ots.file, ots);
    assert.equal(summary.ots.target, BTC);

    // The receipt written is the anchored one, and its btc anchor is the epoch of the proof.
    const receipt = JSON.parse(readFileSync(out, 'utf8')) as AnchoredReceipt;
    const fr = receipt.anchors
      .map((a) => a.federation_receipt as unknown as { statement: EpochStatement; evidence: { height: number } })
      .find((x) => x.statement.target === BTC)!;
    assert.ok(fr, 'the receipt has its Bitcoin anchor');
    assert.equal(fr.statement.epoch, summary.ots.epoch);

    const bytes = readFileSync(ots);
    const route = await fetch(`${node.url}/v1/anchoring/epochs/${BTC}/${fr.statement.epoch}.ots`, {
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(route.status, 200);
    assert.equal(route.headers.get('content-type'), 'application/vnd.opentimestamps.ots');
    assert.equal(
      route.headers.get('content-disposition'),
      `attachment; filename="btc-regtest-${fr.statement.epoch}.ots"`,
    );
    assert.deepEqual(new Uint8Array(await route.arrayBuffer()), new Uint8Array(bytes));
    // Every node of the federation holds the epoch, and exports the same proof.
    const peer = await fetch(`${fed.nodes[1]!.url}/v1/anchoring/epochs/${BTC}/${fr.statement.epoch}.ots`, {
      signal: AbortSignal.timeout(10_000),
    });
    assert.deepEqual(new Uint8Array(await peer.arrayBuffer()), new Uint8Array(bytes));

    // The header from the chain node at the anchor's height, not from the evidence.
    const height = fr.evidence.height;
    const hash = (await btc.call('getblockhash', [height])) as string;
    const header = Buffer.from((await btc.call('getblockheader', [hash, false])) as string, 'hex');
    const headerFile = join(dir, 'header.bin');
    writeFileSync(headerFile, header);
    const seen = JSON.parse(
      execFileSync(PYTHON, ['-c', REFERENCE_CHECK, ots, headerFile], { encoding: 'utf8', timeout: 30_000 }),
    ) as { digest: string; attestations: { type: string; msg: string; height: number; time: number }[] };
    assert.equal(seen.digest, toHex(Buffer.from(fr.statement.root, 'base64')));
    assert.equal(seen.digest, summary.ots.digest);
    const parsed = parseBlockHeader(new Uint8Array(header));
    assert.deepEqual(seen.attestations, [
      { type: 'BitcoinBlockHeaderAttestation', msg: toHex(parsed.merkleRoot), height, time: parsed.time },
    ]);
  });

  test('without --out the receipt goes to stdout and the note to stderr', async () => {
    const node = fed.nodes[0]!;
    const ots = join(dir, 'entry0.ots');
    const r = await runCli(['receipt', '0', '--ns', NS, '--url', node.url, '--ots', ots, '--wait', '90'], {
      timeoutMs: 120_000,
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const receipt = JSON.parse(r.stdout) as AnchoredReceipt;
    assert.ok(receipt.anchors.length > 0);
    assert.match(
      r.stderr,
      new RegExp(`OpenTimestamps proof of epoch \\d+ at ${BTC} written to .*ots verify -d [0-9a-f]{64} `),
    );
    assert.ok(readFileSync(ots).length > 100);
  });

  test('a receipt without a Bitcoin anchor: exit 1, a clear message, nothing written', async () => {
    const node = fed.nodes[0]!;
    const ots = join(dir, 'none.ots');
    const out = join(dir, 'none.json');
    const r = await runCli(['receipt', '0', '--ns', PLAIN, '--url', node.url, '--ots', ots, '--out', out]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /the receipt of plain:n0 entry 0 has no Bitcoin anchor \(anchored at: none yet\).*NOT_FOUND/,
    );
    assert.equal(existsSync(ots), false);
    assert.equal(existsSync(out), false);

    const json = await runCli(['receipt', '0', '--ns', PLAIN, '--url', node.url, '--ots', ots, '--json']);
    assert.equal(json.code, 1);
    assert.equal((JSON.parse(json.stdout) as { error: { code: string } }).error.code, 'NOT_FOUND');

    // --ots without its FILE is a usage error.
    const usage = await runCli(['receipt', '0', '--ns', PLAIN, '--url', node.url, '--ots']);
    assert.equal(usage.code, 2);
  });
});
