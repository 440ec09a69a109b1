import { localDeliverySuite } from './local-delivery-suite.js';

// The local delivery scenarios with the outbox and inbox in the node's SQLite files.
localDeliverySuite('delivery to the local inbox', async (dataDir) => ({
  target: { kind: 'sqlite', dataDir },
  close: async () => undefined,
}));
