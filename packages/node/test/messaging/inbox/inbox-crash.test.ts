import { inboxCrashSuite } from './inbox-crash-suite.js';

// The crash scenarios with the inbox's state in the node's SQLite file.
inboxCrashSuite('a receiver killed mid-delivery', async () => undefined);
