import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_EPOCH_MS,
  DEFAULT_LEADER_TIMEOUT_MS,
  DEFAULT_MAX_CLOCK_SKEW_MS,
  parseAnchoringConfig,
} from '../../src/config/anchoring-config.js';
import { initNode, loadNode } from '../../src/config/node-config.js';

// `anchoring` in config.json (issue 10, item 1): RFC 3161 targets with their TSAs, trust anchors,
// policy and any/all; chain targets (issue 11) with their RPC, secret files and fee caps;
// everything else is CONFIG_INVALID with the member named.
const PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ==\n-----END CERTIFICATE-----\n';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'remembrancer-anchoring-config-'));
  writeFileSync(join(dir, 'ca.pem'), PEM);
  writeFileSync(join(dir, 'evm.key'), `0x${'11'.repeat(32)}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'evm-open.key'), `0x${'11'.repeat(32)}\n`);
  // Explicitly: another test file in the same process may have tightened the umask (runNode does).
  chmodSync(join(dir, 'evm-open.key'), 0o644);
  writeFileSync(join(dir, 'bad.key'), 'not a key\n', { mode: 0o600 });
  writeFileSync(join(dir, 'btc.pass'), 'secret\n', { mode: 0o600 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

const parse = (raw: unknown) => parseAnchoringConfig(raw, 'config.json', dir);

describe('anchoring config', () => {
  test('absent: no targets, production defaults', () => {
    const c = parse(undefined);
    assert.equal(c.targets.size, 0);
    assert.equal(c.leaderTimeoutMs, DEFAULT_LEADER_TIMEOUT_MS);
    assert.equal(c.maxClockSkewMs, DEFAULT_MAX_CLOCK_SKEW_MS);
    assert.equal(c.fallbackAfterMs, 3 * DEFAULT_LEADER_TIMEOUT_MS);
  });

  test('an rfc3161 target: TSAs with PEM text or files (relative to the data dir), any by default', () => {
    const c = parse({
      targets: {
        'rfc3161:two': {
          tsas: [
            { url: 'http://127.0.0.1:9000/', trustAnchors: ['ca.pem'] },
            { url: 'https://tsa.example/ts', trustAnchors: [PEM] },
          ],
          require: 'all',
          policyOid: '1.3.6.1.4.1.57264.3161.1',
        },
        'rfc3161:one': { tsas: [{ url: 'http://127.0.0.1:9001/', trustAnchors: [join(dir, 'ca.pem')] }] },
      },
    });
    const two = c.targets.get('rfc3161:two')!;
    assert.ok(two.kind === 'rfc3161');
    assert.equal(two.require, 'all');
    assert.equal(two.tsas.length, 2);
    assert.equal(two.tsas[0]!.trustAnchorsPem[0], PEM);
    assert.equal(two.epochMs, DEFAULT_EPOCH_MS);
    const one = c.targets.get('rfc3161:one')!;
    assert.equal(one.kind === 'rfc3161' && one.require, 'any');
  });

  test('eip155: and btc: targets: RPC, a 0600 key or password file, fee caps, confirmations', () => {
    const c = parse({
      targets: {
        'eip155:31337': {
          rpcUrl: 'http://127.0.0.1:8545',
          keyFile: 'evm.key',
          maxFeePerGasWei: '50000000000',
          confirmations: 3,
          epochMs: 5000,
        },
        'btc:regtest': { rpcUrl: 'http://127.0.0.1:18443/', passwordFile: 'btc.pass', maxFeeRateSatVb: 20 },
      },
    });
    const evm = c.targets.get('eip155:31337')!;
    assert.ok(evm.kind === 'eip155');
    assert.equal(evm.chainId, 31337);
    assert.equal(evm.keyFile, join(dir, 'evm.key'));
    assert.equal(evm.maxFeePerGasWei, 50_000_000_000n);
    assert.equal(evm.maxPriorityFeePerGasWei, 2_000_000_000n);
    assert.equal(evm.confirmations, 3);
    assert.equal(evm.leaderTimeoutMs, 5000, 'a chain leader has one epoch by default');
    const btc = c.targets.get('btc:regtest')!;
    assert.ok(btc.kind === 'btc');
    assert.equal(btc.network, 'regtest');
    assert.equal(btc.walletUrl, btc.rpcUrl);
    assert.equal(btc.confirmations, 1);
    assert.equal(btc.fallbackFeeRateSatVb, 2);
  });

  test('chain targets: a secret file others can read, a bad key or a missing cap is CONFIG_INVALID', () => {
    const evm = { rpcUrl: 'http://127.0.0.1:8545', keyFile: 'evm.key', maxFeePerGasWei: '1000' };
    const cases: [unknown, RegExp][] = [
      [
        { 'eip155:31337': { ...evm, keyFile: 'evm-open.key' } },
        /mode 644: a secret file must be readable by its owner only/,
      ],
      [{ 'eip155:31337': { ...evm, keyFile: 'nothing.key' } }, /cannot be read/],
      [{ 'eip155:31337': { ...evm, keyFile: 'bad.key' } }, /does not hold one 0x-prefixed 32-byte hex key/],
      [{ 'eip155:31337': { ...evm, maxFeePerGasWei: undefined } }, /maxFeePerGasWei must be a positive whole number/],
      [{ 'eip155:31337': { ...evm, maxFeePerGasWei: '1.5' } }, /maxFeePerGasWei/],
      [{ 'eip155:31337': { ...evm, maxPriorityFeePerGasWei: '2000' } }, /must not exceed maxFeePerGasWei/],
      [{ 'eip155:31337': { ...evm, rpcUrl: 'http://u:p@127.0.0.1/' } }, /must not hold credentials/],
      [{ 'eip155:31337': { ...evm, confirmations: 0 } }, /confirmations must be an integer from 1/],
      [{ 'eip155:031337': evm }, /is not eip155:<chain id>/],
      [
        { 'btc:moon': { rpcUrl: 'http://127.0.0.1/', passwordFile: 'btc.pass', maxFeeRateSatVb: 2 } },
        /is not btc:<network>/,
      ],
      [
        { 'btc:regtest': { rpcUrl: 'http://127.0.0.1/', passwordFile: 'btc.pass' } },
        /maxFeeRateSatVb must be a fee rate/,
      ],
      [
        { 'btc:regtest': { rpcUrl: 'http://127.0.0.1/', passwordFile: 'btc.pass', maxFeeRateSatVb: 2, wallet: 'x' } },
        /unknown member "wallet"/,
      ],
    ];
    for (const [targets, message] of cases) {
      assert.throws(
        () => parse({ targets }),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'CONFIG_INVALID', JSON.stringify(targets));
          assert.match(e.message, message);
          return true;
        },
      );
    }
  });

  test('malformed settings are CONFIG_INVALID naming the member', () => {
    const tsa = { url: 'http://127.0.0.1:9000/', trustAnchors: [PEM] };
    const cases: [unknown, RegExp][] = [
      [[], /must be an object/],
      [{ targetz: {} }, /unknown member "targetz"/],
      [{ targets: { 'rfc3161:a': { tsas: [] } } }, /tsas must list/],
      [{ targets: { 'rfc3161:a': { tsas: [{ url: 'ftp://x/', trustAnchors: [PEM] }] } } }, /must be an http/],
      [{ targets: { 'rfc3161:a': { tsas: [{ url: 'http://x/', trustAnchors: [] }] } } }, /trustAnchors must list/],
      [{ targets: { 'rfc3161:a': { tsas: [{ url: 'http://x/', trustAnchors: ['missing.pem'] }] } } }, /does not exist/],
      [
        { targets: { 'rfc3161:a': { tsas: [{ url: 'http://x/', trustAnchors: ['-----BEGIN X-----'] }] } } },
        /no PEM certificate/,
      ],
      [{ targets: { 'rfc3161:a': { tsas: [tsa], require: 'some' } } }, /"any" or "all"/],
      [{ targets: { 'rfc3161:a': { tsas: [tsa], policyOid: 'x.y' } } }, /object identifier/],
      [{ targets: { 'rfc3161:a': { tsas: [tsa], epochMs: 10 } } }, /epochMs must be an integer/],
      [{ targets: { 'rfc3161:A!': { tsas: [tsa] } } }, /invalid TSA name/],
      [{ targets: { 'ots:x': {} } }, /not a target id/],
      [{ leaderTimeoutMs: -1 }, /leaderTimeoutMs/],
    ];
    for (const [raw, message] of cases) {
      assert.throws(
        () => parse(raw),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'CONFIG_INVALID', JSON.stringify(raw));
          assert.match(e.message, message);
          return true;
        },
      );
    }
  });

  test('loadNode refuses a node whose chain target lacks its settings', () => {
    const node = join(dir, 'node');
    initNode(node, 'alpha.config.test');
    const cfg = JSON.parse(readFileSync(join(node, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(
      join(node, 'config.json'),
      JSON.stringify({ ...cfg, anchoring: { targets: { 'eip155:31337': {} } } }),
    );
    assert.throws(() => loadNode(node), { code: 'CONFIG_INVALID' });
  });
});
