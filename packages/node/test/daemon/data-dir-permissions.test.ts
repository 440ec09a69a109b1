import { after, afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRemembrancerError } from '@vaultmesh/core';
import { dataPaths, initNode, setPrivateUmask } from '../../src/index.js';
import { CadenceStore } from '../../src/namespaces/index.js';
import { FederationStore } from '../../src/federation/index.js';
import { SqliteLogStorage } from '../../src/storage/index.js';
import { describeRepair, findInsecurePaths, secureDataDir } from '../../src/daemon/index.js';
import { openWitness } from '../witness/witness-fixture.js';

// Tests run as root here, so "can another user read it" cannot be asked of the kernel: every check
// is on the mode bits, which is what protects the files for a node run by an ordinary user.

const root = mkdtempSync(join(tmpdir(), 'vm-data-dir-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(root, `d${++n}`);
const modeOf = (p: string): number => statSync(p).mode & 0o777;

// Most tests run under the common permissive umask, the one a node must not rely on; each test
// gets it back whatever the previous one set.
let saved: number;
beforeEach(() => {
  saved = process.umask(0o022);
});
afterEach(() => {
  process.umask(saved);
});

/** A data directory laid out like a node's, every path created with the given modes. */
function layout(dir: string, fileMode: number, dirMode: number): void {
  mkdirSync(join(dir, 'keys'), { recursive: true });
  mkdirSync(join(dir, 'remembrancer.sqlite.tiles'));
  for (const f of [
    'config.json',
    'admin.token',
    'keys/log.key',
    'remembrancer.sqlite',
    'remembrancer.sqlite-wal',
    'remembrancer.sqlite.tiles/ns-1-level-0.tiles',
  ]) {
    writeFileSync(join(dir, f), 'x');
    chmodSync(join(dir, f), fileMode);
  }
  for (const d of [dir, join(dir, 'keys'), join(dir, 'remembrancer.sqlite.tiles')]) chmodSync(d, dirMode);
}

function expectInsecureError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isRemembrancerError(e), String(e));
    assert.equal(e.code, 'DATA_DIR_INSECURE');
    assert.match(e.message, pattern);
    return true;
  });
}

describe('setPrivateUmask', () => {
  test('files and directories created afterwards are 0600 and 0700', () => {
    assert.equal(setPrivateUmask(), 0o077);
    const dir = fresh();
    mkdirSync(dir);
    writeFileSync(join(dir, 'f'), 'x');
    assert.equal(modeOf(dir), 0o700);
    assert.equal(modeOf(join(dir, 'f')), 0o600);
  });

  test('bits the operator already masks stay masked (it only tightens)', () => {
    process.umask(0o277);
    assert.equal(setPrivateUmask(), 0o277);
    assert.equal(process.umask(0o277), 0o277);
  });
});

describe('findInsecurePaths', () => {
  test('a missing data directory has nothing to report (loading the node says it is missing)', () => {
    assert.deepEqual(findInsecurePaths(join(root, 'nope')), []);
  });

  test('a private directory has nothing to report', () => {
    const dir = fresh();
    layout(dir, 0o600, 0o700);
    assert.deepEqual(findInsecurePaths(dir), []);
  });

  test('every path with any group or other bit, the directory itself included; keys and admin token marked secret', () => {
    const dir = fresh();
    layout(dir, 0o600, 0o700);
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'remembrancer.sqlite'), 0o640); // group read only
    chmodSync(join(dir, 'remembrancer.sqlite.tiles/ns-1-level-0.tiles'), 0o602); // other write only
    chmodSync(join(dir, 'keys'), 0o711); // searchable by others
    chmodSync(join(dir, 'keys/log.key'), 0o644);
    chmodSync(join(dir, 'admin.token'), 0o604);
    const found = findInsecurePaths(dir).map((p) => ({ ...p, path: p.path.slice(dir.length) }));
    assert.deepEqual(
      found.sort((a, b) => a.path.localeCompare(b.path)),
      [
        { path: '', kind: 'directory', mode: 0o755, secret: false },
        { path: '/admin.token', kind: 'file', mode: 0o604, secret: true },
        { path: '/keys', kind: 'directory', mode: 0o711, secret: false },
        { path: '/keys/log.key', kind: 'file', mode: 0o644, secret: true },
        { path: '/remembrancer.sqlite', kind: 'file', mode: 0o640, secret: false },
        { path: '/remembrancer.sqlite.tiles/ns-1-level-0.tiles', kind: 'file', mode: 0o602, secret: false },
      ],
    );
  });

  test('a symlink is judged by its target and not followed into; a dangling one is skipped', () => {
    const dir = fresh();
    layout(dir, 0o600, 0o700);
    const outside = fresh();
    mkdirSync(outside);
    writeFileSync(join(outside, 'open.sqlite'), 'x');
    chmodSync(join(outside, 'open.sqlite'), 0o644);
    writeFileSync(join(outside, 'private.sqlite'), 'x');
    chmodSync(join(outside, 'private.sqlite'), 0o600);
    chmodSync(outside, 0o755);
    symlinkSync(join(outside, 'open.sqlite'), join(dir, 'witness.sqlite'));
    symlinkSync(join(outside, 'private.sqlite'), join(dir, 'cadence.sqlite'));
    symlinkSync(join(outside, 'missing'), join(dir, 'dangling'));
    symlinkSync(outside, join(dir, 'linked-dir'));
    const found = findInsecurePaths(dir);
    assert.deepEqual(
      found.map((p) => [p.path, p.kind, p.mode]),
      [
        [join(dir, 'linked-dir'), 'symlink', 0o755],
        [join(dir, 'witness.sqlite'), 'symlink', 0o644],
      ],
    );
  });
});

describe('secureDataDir', () => {
  test('repairs every non-secret path by removing the group and other bits, and says what it did', () => {
    const dir = fresh();
    layout(dir, 0o600, 0o700);
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'config.json'), 0o644);
    chmodSync(join(dir, 'remembrancer.sqlite'), 0o664);
    chmodSync(join(dir, 'remembrancer.sqlite-wal'), 0o644);
    chmodSync(join(dir, 'remembrancer.sqlite.tiles'), 0o775);
    chmodSync(join(dir, 'remembrancer.sqlite.tiles/ns-1-level-0.tiles'), 0o644);
    const repairs = secureDataDir(dir);
    assert.deepEqual(
      repairs.map((r) => [r.path.slice(dir.length), r.kind, r.from, r.to]),
      [
        ['', 'directory', 0o755, 0o700],
        ['/config.json', 'file', 0o644, 0o600],
        ['/remembrancer.sqlite', 'file', 0o664, 0o600],
        ['/remembrancer.sqlite-wal', 'file', 0o644, 0o600],
        ['/remembrancer.sqlite.tiles', 'directory', 0o775, 0o700],
        ['/remembrancer.sqlite.tiles/ns-1-level-0.tiles', 'file', 0o644, 0o600],
      ],
    );
    assert.equal(
      describeRepair(repairs[1]!),
      `${join(dir, 'config.json')}: file was accessible to group or others, mode 0644 → 0600`,
    );
    assert.deepEqual(findInsecurePaths(dir), []);
    assert.deepEqual(secureDataDir(dir), [], 'a second pass has nothing to do');
  });

  test('refuses a readable key or admin token with DATA_DIR_INSECURE naming each, and changes nothing', () => {
    const dir = fresh();
    layout(dir, 0o600, 0o700);
    chmodSync(join(dir, 'config.json'), 0o644);
    chmodSync(join(dir, 'keys/log.key'), 0o640);
    chmodSync(join(dir, 'admin.token'), 0o644);
    expectInsecureError(() => secureDataDir(dir), /admin\.token \(mode 0644\).*keys\/log\.key \(mode 0640\).*rotat/);
    assert.equal(modeOf(join(dir, 'config.json')), 0o644, 'a refusal repairs nothing');
    assert.equal(modeOf(join(dir, 'keys/log.key')), 0o640);
  });

  test('refuses a symlink whose target is open (a chmod through a link could change a file outside the directory)', () => {
    const dir = fresh();
    layout(dir, 0o600, 0o700);
    const target = fresh() + '-target';
    writeFileSync(target, 'x');
    chmodSync(target, 0o644);
    symlinkSync(target, join(dir, 'remembrancer.sqlite-shm'));
    expectInsecureError(() => secureDataDir(dir), /remembrancer\.sqlite-shm \(symlink to a target with mode 0644\)/);
    assert.equal(modeOf(target), 0o644);
  });
});

describe('init and the stores create private files whatever the umask', () => {
  test('initNode creates the data directory 0700, config 0600, keys and token 0600', () => {
    const dir = fresh();
    initNode(dir, 'alpha.vaultmesh.test');
    assert.equal(modeOf(dir), 0o700);
    const p = dataPaths(dir);
    assert.equal(modeOf(p.keys), 0o700);
    for (const f of [p.config, p.adminToken, p.logKey, p.witnessKey, p.peerKey, p.operatorKey])
      assert.equal(modeOf(f), 0o600, f);
    assert.deepEqual(findInsecurePaths(dir), []);
  });

  test('initNode tightens an existing 0755 data directory (and keys directory)', () => {
    const dir = fresh();
    mkdirSync(join(dir, 'keys'), { recursive: true });
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'keys'), 0o755);
    initNode(dir, 'alpha.vaultmesh.test');
    assert.equal(modeOf(dir), 0o700);
    assert.equal(modeOf(join(dir, 'keys')), 0o700);
  });

  test('every SQLite database and its -wal and -shm are 0600 while open (log, witness, cadence, federation)', async () => {
    const dir = fresh();
    mkdirSync(dir, { mode: 0o700 });
    const log = new SqliteLogStorage({ path: join(dir, 'remembrancer.sqlite') });
    const witness = openWitness(dir, []);
    const cadence = new CadenceStore(join(dir, 'cadence.sqlite'));
    const federation = new FederationStore(join(dir, 'federation.sqlite'));
    try {
      for (const db of ['remembrancer', 'witness', 'cadence', 'federation']) {
        for (const suffix of ['', '-wal', '-shm']) {
          const f = join(dir, `${db}.sqlite${suffix}`);
          assert.ok(existsSync(f), `${f} exists while the database is open`);
          assert.equal(modeOf(f), 0o600, f);
        }
      }
    } finally {
      await log.close();
      await witness.close();
      cadence.close();
      federation.close();
    }
  });

  test("an existing database file keeps its mode (repairing it is the start check's job, which says so)", () => {
    const dir = fresh();
    mkdirSync(dir, { mode: 0o700 });
    const path = join(dir, 'cadence.sqlite');
    new CadenceStore(path).close();
    chmodSync(path, 0o640);
    const again = new CadenceStore(path);
    again.close();
    assert.equal(modeOf(path), 0o640);
  });
});
