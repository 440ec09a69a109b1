import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * A real PostgreSQL cluster of a test's own (issue 14): initdb in a temp dir, a postgres server
 * listening on a Unix socket in that dir only (listen_addresses '' — no TCP port, so nothing can be
 * taken between choosing and binding one), stopped and removed by stop(). Debian's postgresql
 * package provides the binaries (.ci/run installs it).
 *
 * PostgreSQL refuses to run as root, and CI runs as root: there the cluster's files belong to the
 * package's `postgres` user and initdb and the server run as that user.
 */
export interface PostgresCluster {
  /** The directory of the server's socket (the `host` of a connection). */
  readonly socketDir: string;
  /** A connection URL for pg: the cluster's superuser on database `postgres`, over the socket. */
  readonly url: string;
  readonly user: string;
  /** Fast shutdown (SIGINT), SIGKILL past the timeout; removes the cluster's files. */
  stop(): Promise<void>;
}

export interface PostgresClusterOptions {
  /** fsync on (the default) for durability tests; off makes throwaway clusters faster. */
  fsync?: boolean;
  /** Bound on start and stop, ms (default 30 s). */
  timeoutMs?: number;
}

const SUPERUSER = 'remembrancer';
/** A port number names the socket file (.s.PGSQL.<port>) in the cluster's own directory: no clash. */
const SOCKET_PORT = 5432;

/** The newest installed PostgreSQL's bin directory (Debian: /usr/lib/postgresql/<major>/bin). */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((d) => /^[0-9]+$/.test(d) && existsSync(join(root, d, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors.length === 0) {
    const fromPath = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
    const dir = fromPath.status === 0 ? fromPath.stdout.trim() : '';
    if (dir !== '' && existsSync(join(dir, 'postgres'))) return dir;
    throw new Error('PostgreSQL is not installed: apt-get install postgresql (see .ci/run)');
  }
  return join(root, majors[0]!, 'bin');
}

/** uid/gid to run PostgreSQL as: ours, or the `postgres` user's when we are root. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const uid = id('-u');
  const gid = id('-g');
  if (uid.status !== 0 || gid.status !== 0)
    throw new Error('running as root, and there is no postgres user to run PostgreSQL as (apt-get install postgresql)');
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function startPostgresCluster(options: PostgresClusterOptions = {}): Promise<PostgresCluster> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const bin = postgresBinDir();
  const as = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'remembrancer-pg-'));
  const data = join(dir, 'data');
  if (as) chownSync(dir, as.uid, as.gid);
  const asUser = as ? { uid: as.uid, gid: as.gid } : {};
  const cleanup = () => rmSync(dir, { recursive: true, force: true });

  const init = spawnSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--no-locale', '--no-sync'],
    { encoding: 'utf8', timeout: timeoutMs, ...asUser },
  );
  if (init.status !== 0) {
    cleanup();
    throw new Error(`initdb failed (${init.status ?? init.signal}): ${init.stderr || init.stdout}`);
  }

  let log = '';
  const server = spawn(
    join(bin, 'postgres'),
    [
      '-D',
      data,
      '-k',
      dir,
      '-p',
      String(SOCKET_PORT),
      '-c',
      'listen_addresses=',
      '-c',
      `fsync=${options.fsync === false ? 'off' : 'on'}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], ...asUser },
  );
  server.stdout!.on('data', (b: Buffer) => (log += b.toString()));
  server.stderr!.on('data', (b: Buffer) => (log += b.toString()));

  const url = `postgresql://${SUPERUSER}@localhost/postgres?host=${encodeURIComponent(dir)}&port=${SOCKET_PORT}`;
  const stop = async () => {
    server.kill('SIGINT');
    if (!(await waitExit(server, timeoutMs))) {
      server.kill('SIGKILL');
      await waitExit(server, 5_000);
    }
    cleanup();
  };

  // Ready once a connection answers; bounded, and an early exit ends the wait with its log.
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.exitCode !== null || server.signalCode !== null) {
      cleanup();
      throw new Error(`postgres exited while starting:\n${log}`);
    }
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      break;
    } catch {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`postgres did not accept connections within ${timeoutMs} ms:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { socketDir: dir, url, user: SUPERUSER, stop };
}
