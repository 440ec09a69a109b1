import { createServer } from 'node:net';
import {
  CosignatureSigner,
  MemoryTree,
  NoteSigner,
  base64Encode,
  buildEquivocationEvidence,
  createGenesis,
  crypto,
  errorMessage,
  formatKeyId,
  logVerifierForOrigin,
  signCheckpoint,
  signEvidence,
  signRegistry,
  utf8Encode,
  type EpochStatement,
  type EquivocationEvidence,
  type RegistryPeer,
  type RegistrySet,
} from '@vaultmesh/core';

/** A registry peer whose every secret the test holds: it can sign requests, registry versions and its own checkpoints. */
export interface TestPeer {
  id: string;
  entry: RegistryPeer;
  logSeed: Uint8Array;
  authSeed: Uint8Array;
  witnessSeed: Uint8Array;
  keyid: string;
}

export function makePeer(id: string, endpoint = `http://${id}:8080`): TestPeer {
  const logSeed = crypto.randomBytes(32);
  const authSeed = crypto.randomBytes(32);
  const witnessSeed = crypto.randomBytes(32);
  const auth = new NoteSigner(`${id}/peer`, authSeed);
  return {
    id,
    logSeed,
    authSeed,
    witnessSeed,
    keyid: formatKeyId(auth.keyId),
    entry: {
      id,
      endpoint,
      log_vkey: new NoteSigner(id, logSeed).vkey,
      witness_vkey: new CosignatureSigner(`${id}/witness`, witnessSeed).vkey,
      auth_key: auth.vkey,
      status: 'active',
      roles: ['log', 'witness'],
    },
  };
}

/** Version 1 listing `peers`, signed by all of them. */
export function genesisOf(peers: readonly TestPeer[], quorum = { witness: 1, registry: 2 }): RegistrySet {
  let g = createGenesis({
    federation_id: 'test',
    peers: peers.map((p) => p.entry),
    quorum,
    anchor_strategy: 'collaborative',
    memo: '',
    effective_after: '2026-01-01T00:00:00Z',
  });
  for (const p of peers) g = signRegistry(g, p.id, p.authSeed);
  return g;
}

/** Signs `set` with each of `signers`' auth keys. */
export function signedBy(set: RegistrySet, signers: readonly TestPeer[]): RegistrySet {
  let s = set;
  for (const p of signers) s = signRegistry(s, p.id, p.authSeed);
  return s;
}

/** An in-memory log of `origin` signed with the peer's log key: honest, or a fork of another one. */
export class TestLog {
  readonly tree = new MemoryTree();
  readonly entries: string[] = [];
  constructor(
    readonly peer: TestPeer,
    readonly origin: string,
  ) {}

  append(...entries: string[]): this {
    for (const e of entries) {
      this.tree.append(utf8Encode(e));
      this.entries.push(e);
    }
    return this;
  }

  /** A copy holding the same entries: appending to it makes a fork. */
  fork(): TestLog {
    return new TestLog(this.peer, this.origin).append(...this.entries);
  }

  checkpoint(size = this.tree.size): string {
    return signCheckpoint(
      { origin: this.origin, size, root: this.tree.rootAt(size) },
      new NoteSigner(this.origin, this.peer.logSeed),
    );
  }
}

/** Evidence, signed by `detector`, that `log`'s log `origin` showed two roots at one size (3 entries, then a fork). */
export function sameSizeFork(log: TestPeer, origin: string, detector: TestPeer): EquivocationEvidence {
  const honest = new TestLog(log, origin).append('a', 'b', 'c');
  const fork = honest.fork();
  honest.append('d');
  fork.append('x');
  const unsigned = buildEquivocationEvidence({
    detectedBy: detector.id,
    detectedAt: new Date().toISOString(),
    checkpoints: [honest.checkpoint(), fork.checkpoint()],
    logVerifier: logVerifierForOrigin(log.entry, origin),
  });
  return signEvidence(unsigned, detector.authSeed);
}

/** An epoch statement of genesisOf's federation (version 1) whose root is the hash of `rootText`. */
export function epochStatement(epoch: number, rootText: string, treeSize = 2): EpochStatement {
  return {
    format: 'vaultmesh.epoch@1',
    federation_id: 'test',
    registry_version: 1,
    target: 'rfc3161:test',
    epoch,
    mode: 'collaborative',
    node: null,
    tree_size: treeSize,
    root: base64Encode(crypto.sha256(utf8Encode(rootText))),
  };
}

/** Polls `check` every 50 ms until it returns a value; fails after timeoutMs naming `what`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${errorMessage(lastError)}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Ports the OS hands out now (bound and released at once); good enough for loopback tests. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
