import type { CadenceRow } from '../../src/namespaces/cadence-records.js';

/** A cadence level as stored: dao:vaultmesh's fast RFC 3161 level, due every five minutes; `over` changes it. */
export const cadenceRow = (over: Partial<CadenceRow> = {}): CadenceRow => ({
  namespace: 'dao:vaultmesh',
  level: 'fast',
  target: 'rfc3161:freetsa',
  every: '5m',
  periodMs: 300_000,
  confirmations: 0,
  anchorMs: 1_000,
  nextDueMs: 301_000,
  lastDueMs: null,
  dueCount: 0,
  ...over,
});
