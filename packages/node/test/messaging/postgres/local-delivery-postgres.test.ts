import { after, before } from 'node:test';
import { PgDatabase } from '../../../src/storage/postgres/pg-database.js';
import { NO_FENCE } from '../../../src/storage/postgres/write-fence.js';
import { startTestPostgres, type TestPostgres } from '../../storage/postgres/test-databases.js';
import { localDeliverySuite } from '../outbox/local-delivery-suite.js';

// The local delivery scenarios with the outbox and inbox in a PostgreSQL database (one pool shared
// by both, as a front end's stores share it), on a real cluster.
let pg: TestPostgres | undefined;
before(async () => {
  pg = await startTestPostgres();
});
after(async () => {
  await pg?.stop();
});

localDeliverySuite('delivery to the local inbox (PostgreSQL)', async () => {
  if (pg === undefined) throw new Error('the PostgreSQL cluster did not start');
  const db = await PgDatabase.open({ url: await pg.freshDatabase(), what: 'messaging' });
  return { target: { kind: 'postgres', db, fence: NO_FENCE }, close: () => db.close() };
});
