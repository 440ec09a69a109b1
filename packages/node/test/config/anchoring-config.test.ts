import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
// policy and any/all; chain targets refused until chain anchoring exists; everything else is
// CONFIG_INVALID with the member named.
const PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ==\n-----END CERTIFICATE-----\n';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'remembrancer-anchoring-config-'));
  writeFileSync(join(dir, 'ca.pem'), PEM);
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
    assert.equal(two.require, 'all');
    assert.equal(two.tsas.length, 2);
    assert.equal(two.tsas[0]!.trustAnchorsPem[0], PEM);
    assert.equal(two.epochMs, DEFAULT_EPOCH_MS);
    assert.equal(c.targets.get('rfc3161:one')!.require, 'any');
  });

  test('eip155: and btc: targets are refused at start with CONFIG_INVALID until chain anchoring exists', () => {
    for (const id of ['eip155:1', 'btc:regtest']) {
      assert.throws(
        () => parse({ targets: { [id]: {} } }),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'CONFIG_INVALID');
          assert.match(e.message, /chain anchoring is not available/);
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

  test('loadNode refuses a node whose config names a chain target', () => {
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
