import { chmodSync, lstatSync, readdirSync, statSync, type Stats } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { join, relative, sep } from 'node:path';
import { RemembrancerError, errorMessage } from '@vaultmesh/core';

/**
 * A node's data directory holds private namespaces' entries (SQLite, its WAL, the tile mirror)
 * and its secrets (keys, admin token): nothing in it may be readable, writable or searchable by
 * group or others. The process umask makes everything the node creates private; `secureDataDir`
 * checks what is already there when a node starts.
 */
export const PRIVATE_UMASK = 0o077;
export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;
const GROUP_OTHER_BITS = 0o077;

/**
 * Tightens the process umask so that every file and directory created from now on (SQLite
 * databases, -wal/-shm, tiles, logs) is private to the owner: 0600 / 0700 for the usual 0666 /
 * 0777 requests. Bits already masked by the operator stay masked. Returns the umask in force.
 * Worker threads cannot set the umask (it is per process); there it is left to the main thread.
 */
export function setPrivateUmask(): number {
  if (!isMainThread) return PRIVATE_UMASK;
  const previous = process.umask(PRIVATE_UMASK);
  const wanted = previous | PRIVATE_UMASK;
  if (wanted !== PRIVATE_UMASK) process.umask(wanted);
  return wanted;
}

export type DataPathKind = 'directory' | 'file' | 'symlink';

/** A path under the data directory (or the directory itself) that group or others may access. */
export interface InsecurePath {
  readonly path: string;
  readonly kind: DataPathKind;
  /** Permission bits (of the link's target for a symlink). */
  readonly mode: number;
  /**
   * A key file or the admin token. Once readable by others it may be copied already: a chmod
   * does not undo that, so these are refused, never repaired (the operator decides whether to
   * rotate).
   */
  readonly secret: boolean;
}

/** A permission change made by secureDataDir. */
export interface PermissionRepair {
  readonly path: string;
  readonly kind: Exclude<DataPathKind, 'symlink'>;
  readonly from: number;
  readonly to: number;
}

/** Key files (`keys/…`, including next and retired keys) and the admin token. */
function isSecret(dataDir: string, path: string): boolean {
  const rel = relative(dataDir, path);
  return rel === 'admin.token' || rel.startsWith('keys' + sep);
}

function kindOf(st: Stats): DataPathKind {
  if (st.isSymbolicLink()) return 'symlink';
  return st.isDirectory() ? 'directory' : 'file';
}

/**
 * Every path under `dataDir` (the directory included) with a group or other permission bit,
 * depth first. Symlinks inside are judged by their target (a dangling one is skipped) and never
 * followed into. A missing data directory has nothing insecure (loading the node reports it).
 */
export function findInsecurePaths(dataDir: string): InsecurePath[] {
  const found: InsecurePath[] = [];
  let root: Stats;
  try {
    // The data directory itself may be a symlink (e.g. to another disk): its target counts.
    root = statSync(dataDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return found;
    throw insecure(`cannot inspect data directory ${dataDir}: ${errorMessage(e)}`, e);
  }
  const visit = (path: string, st: Stats): void => {
    const kind = kindOf(st);
    let mode = st.mode & 0o777;
    if (kind === 'symlink') {
      try {
        mode = statSync(path).mode & 0o777;
      } catch {
        return;
      }
    }
    if ((mode & GROUP_OTHER_BITS) !== 0) found.push({ path, kind, mode, secret: isSecret(dataDir, path) });
    if (kind !== 'directory') return;
    let names: string[];
    try {
      names = readdirSync(path).sort();
    } catch (e) {
      throw insecure(`cannot inspect ${path}: ${errorMessage(e)}`, e);
    }
    for (const name of names) {
      const child = join(path, name);
      let cst: Stats;
      try {
        cst = lstatSync(child);
      } catch {
        continue; // removed meanwhile
      }
      visit(child, cst);
    }
  };
  visit(dataDir, root);
  return found;
}

function insecure(message: string, cause?: unknown): RemembrancerError {
  return new RemembrancerError('DATA_DIR_INSECURE', message, cause === undefined ? {} : { cause });
}

const octal = (mode: number): string => mode.toString(8).padStart(4, '0');

/**
 * What a node does with its data directory before opening anything in it:
 *  - a key file or the admin token accessible to group or others, or a symlink to such a target,
 *    is refused (DATA_DIR_INSECURE, nothing changed): like ssh with an open private key, because
 *    the secret may already be copied and only the operator can decide to rotate it;
 *  - every other directory and file with group or other bits is repaired (those bits removed:
 *    0755 → 0700, 0644 → 0600) and returned, so the caller can log a warning naming each path.
 *    Nodes of earlier releases created their databases 0644; this upgrades them in place.
 * A path that cannot be repaired (owned by another user) is DATA_DIR_INSECURE as well.
 */
export function secureDataDir(dataDir: string): PermissionRepair[] {
  const found = findInsecurePaths(dataDir);
  const refused = found.filter((p) => p.secret || p.kind === 'symlink');
  if (refused.length > 0) {
    const list = refused
      .map((p) => `${p.path} (${p.kind === 'symlink' ? 'symlink to a target with ' : ''}mode ${octal(p.mode)})`)
      .join(', ');
    throw insecure(
      `data directory ${dataDir} has secrets readable by group or others: ${list}. They may already be copied: ` +
        `consider rotating them, then run 'chmod go-rwx' on each (this node does not repair secrets itself)`,
    );
  }
  const repairs: PermissionRepair[] = [];
  for (const p of found) {
    const to = p.mode & ~GROUP_OTHER_BITS;
    try {
      chmodSync(p.path, to);
    } catch (e) {
      throw insecure(
        `${p.path} is accessible to group or others (mode ${octal(p.mode)}) and cannot be repaired: ${errorMessage(e)}`,
        e,
      );
    }
    repairs.push({ path: p.path, kind: p.kind as PermissionRepair['kind'], from: p.mode, to });
  }
  return repairs;
}

/** One log line's worth of a repair: "… mode 0644 → 0600". */
export function describeRepair(r: PermissionRepair): string {
  return `${r.path}: ${r.kind} was accessible to group or others, mode ${octal(r.from)} → ${octal(r.to)}`;
}
