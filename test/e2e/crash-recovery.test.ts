import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NoteVerifier, base64Decode, canonicalize, openCheckpoint, verifyConsistency } from '@vaultmesh/core';
import { runCli, startServe, type ServeProcess } from './harness/cli-process.js';

// A real node under concurrent append load is killed with SIGKILL at random moments. After every
// restart each acknowledged entry must be at its acknowledged index with the same bytes, and every
// checkpoint served before the crash must be consistent with the first one served after it.
const CRASHES = 5;
const WRITERS = 6;
const seed = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
let rngState = seed;
function rand(): number {
  // mulberry32: a small seeded PRNG so a failing run can be replayed with CRASH_SEED.
  rngState = (rngState + 0x6d2b79f5) | 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const dir = mkdtempSync(join(tmpdir(), 'remembrancer-crash-'));
const data = join(dir, 'node');
const NS = 'crash:test';
let node: ServeProcess | undefined;
after(async () => {
  await node?.kill();
  rmSync(dir, { recursive: true, force: true });
});

interface Served {
  size: number;
  root: Uint8Array;
  note: string;
}

test(
  `acknowledged entries and checkpoints survive ${CRASHES} SIGKILLs under load (seed ${seed})`,
  { timeout: 240_000 },
  async (t) => {
    assert.equal((await runCli(['init', '--data', data, '--name', 'crash.vaultmesh.local'])).code, 0);
    const cfgPath = join(data, 'config.json');
    writeFileSync(cfgPath, JSON.stringify({ ...JSON.parse(readFileSync(cfgPath, 'utf8')), checkpointIntervalMs: 50 }));
    const token = readFileSync(join(data, 'admin.token'), 'utf8').trim();
    node = await startServe(data);
    const created = await fetch(`${node.url}/v1/ns/${NS}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(created.status, 201);
    const verifier = NoteVerifier.fromVkey(((await created.json()) as { log_vkey: string }).log_vkey);

    const acked = new Map<number, string>(); // index → canonical JSON of what we sent
    let counter = 0;

    for (let crash = 0; crash < CRASHES; crash++) {
      const url = node.url;
      let running = true;
      const served: Served[] = [];

      const writer = async (w: number) => {
        while (running) {
          const n = rand() < 0.5 ? 1 : 1 + Math.floor(rand() * 40);
          const entries = Array.from({ length: n }, () => ({
            w,
            c: counter++,
            crash,
            pad: 'x'.repeat(Math.floor(rand() * 200)),
          }));
          try {
            const res = await fetch(`${url}/v1/ns/${NS}/${n === 1 ? 'entries' : 'batch'}`, {
              method: 'POST',
              headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
              body: JSON.stringify(n === 1 ? entries[0] : { entries }),
            });
            if (res.status !== 201) continue; // pushback or shutdown: nothing acknowledged
            const body = (await res.json()) as { index?: number; indices?: number[] };
            const indices = body.indices ?? [body.index!];
            indices.forEach((index, i) => acked.set(index, canonicalize(entries[i])));
          } catch {
            // connection reset by the crash: the write was not acknowledged
          }
        }
      };
      const watcher = async () => {
        while (running) {
          try {
            const res = await fetch(`${url}/v1/ns/${NS}/checkpoint`);
            if (res.status === 200) {
              const note = await res.text();
              const { checkpoint } = openCheckpoint(note, verifier);
              if (served.at(-1)?.size !== checkpoint.size)
                served.push({ size: checkpoint.size, root: checkpoint.root, note });
            }
          } catch {
            // the node is gone
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      };

      const load = [...Array.from({ length: WRITERS }, (_, w) => writer(w)), watcher()];
      await new Promise((r) => setTimeout(r, 300 + rand() * 1200));
      await node.kill();
      running = false;
      await Promise.all(load);
      const ackedBefore = acked.size;
      assert.ok(ackedBefore > 0, 'the load generator got acknowledgements');

      node = await startServe(data);
      // Every acknowledged entry, at its index, byte for byte.
      const sizeRes = (await (await fetch(`${node.url}/v1/ns/${NS}`)).json()) as { size: number };
      for (const [index, canonical] of acked) {
        assert.ok(index < sizeRes.size, `acknowledged index ${index} is below the recovered size ${sizeRes.size}`);
        const res = await fetch(`${node.url}/v1/ns/${NS}/entries/${index}`);
        assert.equal(res.status, 200, `entry ${index} after crash ${crash + 1}`);
        assert.equal(
          canonicalize(((await res.json()) as { entry: unknown }).entry),
          canonical,
          `entry ${index} bytes after crash ${crash + 1}`,
        );
      }
      // The first checkpoint after the restart is consistent with every one served before the crash.
      const afterNote = await (await fetch(`${node.url}/v1/ns/${NS}/checkpoint`)).text();
      const next = openCheckpoint(afterNote, verifier).checkpoint;
      for (const p of served) {
        assert.ok(
          p.size <= next.size,
          `checkpoint of size ${p.size} served before crash ${crash + 1} is not lost (now ${next.size})`,
        );
        if (p.size === 0) continue;
        const proof = (await (
          await fetch(`${node.url}/v1/ns/${NS}/proof/consistency?from=${p.size}&to=${next.size}`)
        ).json()) as { proof: string[] };
        verifyConsistency(p.size, next.size, proof.proof.map(base64Decode), p.root, next.root);
      }
      assert.ok(served.length > 0, 'checkpoints were observed before the crash');
      t.diagnostic(
        `crash ${crash + 1}: ${acked.size} entries acknowledged so far, ${served.length} checkpoints checked, recovered size ${sizeRes.size}`,
      );
    }
  },
);
