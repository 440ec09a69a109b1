import type { GovernanceOperators } from '@vaultmesh/core';
import type { LogEngine } from '../log/log-engine.js';
import type { StorageTarget } from '../storage/storage-target.js';
import { CadenceScheduler } from './cadence-scheduler.js';
import { openCadenceStorage } from './open-cadence-storage.js';
import { EntryAdmission } from './entry-admission.js';
import { NamespaceDirectory, type LocalOperator, type NamespaceDirectoryOptions } from './namespace-directory.js';
import { QuotaGuard } from './quota-guard.js';
import { RateLimiter } from './rate-limiter.js';
import { SchemaRegistry, defaultSchemaDir } from './schema-registry.js';
import { WriterAuthorization } from './writer-authorization.js';

/** Everything that turns a node's logs into tenants with rules, as the HTTP layer uses it. */
export interface NamespaceServices {
  directory: NamespaceDirectory;
  admission: EntryAdmission;
  auth: WriterAuthorization;
  schemas: SchemaRegistry;
  cadence: CadenceScheduler;
  /** Starts the timers (pending governance documents, cadence due times). */
  start(): void;
  /** Stops the timers (start() again resumes them). */
  stop(): void;
  /** Stops the timers and closes the cadence storage; the engine is the caller's. */
  close(): Promise<void>;
}

export interface NamespaceServicesOptions {
  engine: LogEngine;
  /** The node's data directory: the cadence schedules open there unless `storage` says otherwise. */
  dataDir: string;
  /** Where the cadence schedules open (default: SQLite in dataDir). */
  storage?: StorageTarget;
  adminToken: string;
  operators: GovernanceOperators;
  localOperator?: LocalOperator;
  /** Directory of the JSON Schema files (default: the repository's schemas/). */
  schemaDir?: string;
  now?: () => number;
  logger?: NamespaceDirectoryOptions['logger'];
  /**
   * How often due cadence levels are looked for, ms (default 1 s). A node that anchors ticks as
   * often as its anchoring does: a due event heard late misses the epoch that closes meanwhile.
   */
  cadenceTickMs?: number;
  /** Refuses a cadence the node's anchoring settings cannot honour, when its operator proposes one. */
  checkCadence?: NamespaceDirectoryOptions['checkCadence'];
}

/** Opens the namespace rules of a node: replays sys:governance and applies what is in force. */
export async function openNamespaceServices(options: NamespaceServicesOptions): Promise<NamespaceServices> {
  const schemas = SchemaRegistry.load(options.schemaDir ?? defaultSchemaDir());
  const storage = await openCadenceStorage(options.storage ?? { kind: 'sqlite', dataDir: options.dataDir });
  const now = options.now ?? Date.now;
  const cadence = new CadenceScheduler({ storage, now });
  let directory: NamespaceDirectory;
  try {
    directory = await NamespaceDirectory.open({
      engine: options.engine,
      operators: options.operators,
      schemas,
      cadence,
      now,
      ...(options.localOperator ? { localOperator: options.localOperator } : {}),
      ...(options.checkCadence ? { checkCadence: options.checkCadence } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
  } catch (e) {
    await cadence.close();
    throw e;
  }
  const auth = new WriterAuthorization(options.adminToken, () => directory.writerIndex());
  const admission = new EntryAdmission({
    directory,
    auth,
    schemas,
    rate: new RateLimiter(),
    quota: new QuotaGuard(options.engine),
  });
  return {
    directory,
    admission,
    auth,
    schemas,
    cadence,
    start() {
      directory.start();
      cadence.start(options.cadenceTickMs);
    },
    stop() {
      directory.stop();
      cadence.stop();
    },
    async close() {
      directory.stop();
      await cadence.close();
    },
  };
}
