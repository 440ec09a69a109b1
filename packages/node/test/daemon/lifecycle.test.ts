import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initNode } from '../../src/config/node-config.js';
import { Lifecycle } from '../../src/daemon/lifecycle.js';
import { runNode } from '../../src/daemon/run-node.js';

// Issue 9: one lifecycle starts the daemon's components in order and stops them in reverse; a
// failure at any start step stops what had started; stop leaves no handle open.

describe('Lifecycle', () => {
  test('stops in reverse order, once, whatever the number of stop() calls', async () => {
    const events: string[] = [];
    const life = new Lifecycle();
    for (const name of ['a', 'b', 'c'])
      await life.open(
        name,
        () => events.push(`start ${name}`),
        () => void events.push(`stop ${name}`),
      );
    await Promise.all([life.stop(), life.stop()]);
    await life.stop();
    assert.deepEqual(events, ['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
  });

  test('a component that fails to stop does not keep the others open; the first failure is rethrown', async () => {
    const stopped: string[] = [];
    const life = new Lifecycle();
    await life.open(
      'a',
      () => 1,
      () => void stopped.push('a'),
    );
    await life.open(
      'b',
      () => 2,
      () => {
        throw new Error('b would not stop');
      },
    );
    await life.open(
      'c',
      () => 3,
      async () => void stopped.push('c'),
    );
    await assert.rejects(life.stop(), /b would not stop/);
    assert.deepEqual(stopped, ['c', 'a']);
  });

  test('a step that throws registers nothing; nothing starts once stopping', async () => {
    const life = new Lifecycle();
    await assert.rejects(
      life.open(
        'x',
        () => Promise.reject(new Error('no')),
        () => assert.fail('never started'),
      ),
      /no/,
    );
    assert.deepEqual(life.started(), []);
    await life.stop();
    await assert.rejects(
      life.open(
        'late',
        () => 1,
        () => undefined,
      ),
      /stopping/,
    );
  });
});

describe('runNode', () => {
  let root: string;
  let dir: string;

  /** Open file descriptors of this process that point into the node's data directory. */
  function openFilesInDataDir(): string[] {
    const out: string[] = [];
    for (const fd of readdirSync('/proc/self/fd')) {
      try {
        const target = readlinkSync(`/proc/self/fd/${fd}`);
        if (target.startsWith(dir)) out.push(target);
      } catch {
        // The descriptor closed while we looked.
      }
    }
    return out;
  }

  /**
   * Timers, servers and sockets, by kind: what must be as before once a node has stopped. Writes
   * and file requests in flight (the test runner's own output) come and go on their own.
   */
  function handles(): string[] {
    return process
      .getActiveResourcesInfo()
      .filter((r) => /^(Timeout|Immediate|TCPServerWrap|TCPWrap|TCPSocketWrap|UDPWrap)$/.test(r))
      .sort();
  }

  /** `handles` less those in `baseline` (each counted once): what was added since. */
  function added(baseline: string[]): string[] {
    const left = [...baseline];
    return handles().filter((h) => {
      const i = left.indexOf(h);
      if (i < 0) return true;
      left.splice(i, 1);
      return false;
    });
  }

  /**
   * The handles added since `baseline` once those being closed are gone: libuv closes a server's
   * handle in a later turn of the event loop than the close() that asked for it. Handles of the
   * baseline may close meanwhile (an earlier test file's servers in the same shard). Bounded: a
   * handle still there after 2 s was never closed.
   */
  async function handlesSettledTo(baseline: string[]): Promise<string[]> {
    const until = Date.now() + 2000;
    let extra = added(baseline);
    while (extra.length > 0 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 10));
      extra = added(baseline);
    }
    return extra;
  }

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'remembrancer-lifecycle-'));
    dir = join(root, 'node');
    initNode(dir, 'lifecycle.vaultmesh.local', { listen: '127.0.0.1:0', gossipIntervalMs: 0 });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('close() leaves no timer, server, socket or open database file behind', async () => {
    const baseline = handles();
    const steps: string[] = [];
    const node = await runNode({ dataDir: dir, logger: false, onStep: (s) => steps.push(s) });
    assert.ok(openFilesInDataDir().length > 0, 'the running node holds its databases open');
    assert.ok(steps.includes('http server') && steps.includes('cosigner'), steps.join(', '));
    await node.close();
    assert.deepEqual(openFilesInDataDir(), []);
    assert.deepEqual(await handlesSettledTo(baseline), []);
  });

  test('a failure at each start step stops everything that had started', async () => {
    const baseline = handles();
    const steps: string[] = [];
    const node = await runNode({ dataDir: dir, logger: false, onStep: (s) => steps.push(s) });
    await node.close();
    assert.deepEqual(await handlesSettledTo(baseline), []);
    assert.ok(steps.length >= 10, `steps: ${steps.join(', ')}`);
    for (const step of steps) {
      await assert.rejects(
        runNode({
          dataDir: dir,
          logger: false,
          onStep: (s) => {
            if (s === step) throw new Error(`injected failure at ${s}`);
          },
        }),
        new RegExp(`injected failure at ${step}`),
      );
      assert.deepEqual(openFilesInDataDir(), [], `files left open after a failure at ${step}`);
      assert.deepEqual(await handlesSettledTo(baseline), [], `handles left after a failure at ${step}`);
    }
    // And the node still starts afterwards: nothing half-closed was left.
    const again = await runNode({ dataDir: dir, logger: false });
    await again.close();
  });
});
