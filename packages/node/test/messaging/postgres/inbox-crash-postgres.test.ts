import { after, before } from 'node:test';
import { startTestPostgres, type TestPostgres } from '../../storage/postgres/test-databases.js';
import { inboxCrashSuite } from '../inbox/inbox-crash-suite.js';

// The crash scenarios with the inbox's state in PostgreSQL (a fresh database per test), on a
// real cluster: reconciliation at open settles what the killed inbox left through settle().
let pg: TestPostgres | undefined;
before(async () => {
  pg = await startTestPostgres();
});
after(async () => {
  await pg?.stop();
});

inboxCrashSuite('a receiver killed mid-delivery (PostgreSQL)', async () => {
  if (pg === undefined) throw new Error('the PostgreSQL cluster did not start');
  return pg.freshDatabase();
});
