import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCadence, RemembrancerError } from '@vaultmesh/core';
import { parseAnchoringConfig } from '../../src/config/anchoring-config.js';
import { checkCadenceConfirmations } from '../../src/anchoring/chain/cadence-confirmations.js';

// A cadence level may not ask a chain target configured here for more confirmations than the
// target makes an anchor final at: the anchor would be reported before it is that deep.

test('a cadence asking a chain target for more confirmations than it gives is POLICY_INVALID at that level', () => {
  const dir = mkdtempSync(join(tmpdir(), 'remembrancer-cadence-confirmations-'));
  try {
    writeFileSync(join(dir, 'evm.key'), `0x${'22'.repeat(32)}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'btc.pass'), 'x\n', { mode: 0o600 });
    const config = parseAnchoringConfig(
      {
        targets: {
          'eip155:31337': {
            rpcUrl: 'http://127.0.0.1:1',
            keyFile: 'evm.key',
            maxFeePerGasWei: '1000',
            confirmations: 3,
          },
          'btc:regtest': {
            rpcUrl: 'http://127.0.0.1:1',
            passwordFile: 'btc.pass',
            maxFeeRateSatVb: 5,
            confirmations: 1,
          },
        },
      },
      'config.json',
      dir,
    );
    const ok = parseCadence(
      {
        strong: { target: 'eip155:31337', every: '1m', confirmations: 3 },
        cold: { target: 'btc:mainnet', every: '1h', confirmations: 6 },
      },
      '',
    );
    checkCadenceConfirmations(ok, config); // btc:mainnet is not configured here: not judged
    assert.throws(
      () =>
        checkCadenceConfirmations(
          parseCadence({ cold: { target: 'btc:regtest', every: '1h', confirmations: 2 } }, ''),
          config,
        ),
      (e: unknown) =>
        e instanceof RemembrancerError &&
        e.code === 'POLICY_INVALID' &&
        /^\/cold\/confirmations: 2 is more than this node's btc:regtest target makes an anchor final at \(1\)/.test(
          e.message,
        ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
