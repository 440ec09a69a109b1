import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NoteSigner, canonicalBytes, formatKeyId, peerAuthKeyName, signRequest } from '@vaultmesh/core';
import { PEER_BODY_LIMIT_BYTES, peerRootPath, readKeyFile } from '@vaultmesh/node';
import { startLocalFederation, type FederationNode, type LocalFederation } from './harness/local-federation.js';

// Three real nodes. A peer request is signed for one node's registry endpoint (RFC 9421 §2.2.2
// @target-uri) and verifies there only: not at another node, whatever Host header it carries, and
// not at all when signed for a host outside the federation; so a request captured on its way to
// one node cannot be replayed at another (RFC 9421 §7.2.2). Peer-only routes check the signature
// before they read or parse a body.
const root = mkdtempSync(join(tmpdir(), 'remembrancer-peer-target-'));
let fed: LocalFederation | undefined;
after(async () => {
  await fed?.stopAll();
  rmSync(root, { recursive: true, force: true });
});

const VIEW = '/v1/federation/peer/view';
const EVIDENCE = '/v1/federation/evidence';

/** Headers of a request `from` signs for `targetUri`. */
function signedBy(
  from: FederationNode,
  method: 'GET' | 'POST',
  targetUri: string,
  body: Uint8Array = new Uint8Array(0),
): Record<string, string> {
  const seed = readKeyFile(join(from.dir, 'keys', 'peer.key'), 'peer');
  const keyid = formatKeyId(new NoteSigner(peerAuthKeyName(from.name), seed).keyId);
  return { ...signRequest({ method, targetUri, keyid, seed, body }) };
}

/** The URI a peer signs for `node`: its registry endpoint (here its listen address) and the path. */
function targetOf(node: FederationNode, path: string): string {
  return new URL(path, node.url).href;
}

/**
 * Sends a request to `node` with exactly these headers, the Host header included (fetch would
 * set its own); bounded by a timeout. Resolves with the status and the parsed error body.
 */
function send(
  node: FederationNode,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Uint8Array,
): Promise<{ status: number; code?: string; text: string }> {
  const url = new URL(node.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: {
          ...(body ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}),
          ...headers,
        },
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let code: string | undefined;
          try {
            code = (JSON.parse(text) as { code?: string }).code;
          } catch {
            code = undefined;
          }
          resolve({ status: res.statusCode ?? 0, ...(code === undefined ? {} : { code }), text });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} at ${node.name} timed out`)));
    req.on('error', reject);
    req.end(body ? Buffer.from(body) : undefined);
  });
}

test('peer signatures are bound to the recipient node', { timeout: 180_000 }, async (t) => {
  fed = await startLocalFederation(root, 3);
  const [alpha, beta, gamma] = fed.nodes as [FederationNode, FederationNode, FederationNode];
  const hostOf = (n: FederationNode) => new URL(n.url).host;

  await t.test('signed for the recipient: accepted, whatever the Host header', async () => {
    const ok = await send(alpha, 'GET', VIEW, signedBy(beta, 'GET', targetOf(alpha, VIEW)));
    assert.equal(ok.status, 200, ok.text);
    const anyHost = await send(alpha, 'GET', VIEW, {
      ...signedBy(beta, 'GET', targetOf(alpha, VIEW)),
      host: 'whatever.invalid:1',
    });
    assert.equal(anyHost.status, 200, anyHost.text);
  });

  await t.test('signed for another node: refused, even naming that node as the host', async () => {
    for (const host of [hostOf(alpha), hostOf(gamma)]) {
      const r = await send(alpha, 'GET', VIEW, { ...signedBy(beta, 'GET', targetOf(gamma, VIEW)), host });
      assert.equal(r.status, 401, r.text);
      assert.equal(r.code, 'SIGNATURE_INVALID');
    }
    // The new hash routes too.
    const path = peerRootPath('dao:none', 1);
    const r = await send(alpha, 'GET', path, { ...signedBy(gamma, 'GET', targetOf(beta, path)), host: hostOf(beta) });
    assert.equal(r.status, 401, r.text);
    assert.equal(r.code, 'SIGNATURE_INVALID');
  });

  await t.test('signed for a host outside the federation: refused', async () => {
    const r = await send(alpha, 'GET', VIEW, {
      ...signedBy(beta, 'GET', `http://evil.example:8080${VIEW}`),
      host: 'evil.example:8080',
    });
    assert.equal(r.status, 401, r.text);
    assert.equal(r.code, 'SIGNATURE_INVALID');
  });

  await t.test('a request captured on its way to one node cannot be replayed at another', async () => {
    const body = canonicalBytes({ not: 'evidence' });
    for (const [method, path, bytes] of [
      ['GET', VIEW, undefined],
      ['POST', EVIDENCE, body],
    ] as const) {
      const captured = signedBy(beta, method, targetOf(gamma, path), bytes ?? new Uint8Array(0));
      const atGamma = await send(gamma, method, path, captured, bytes);
      assert.equal(atGamma.status, method === 'GET' ? 200 : 400, atGamma.text);
      // At alpha the nonce is unused, but the signature covers gamma's endpoint.
      for (const host of [hostOf(alpha), hostOf(gamma)]) {
        const atAlpha = await send(alpha, method, path, { ...captured, host }, bytes);
        assert.equal(atAlpha.status, 401, atAlpha.text);
        assert.equal(atAlpha.code, 'SIGNATURE_INVALID');
      }
      const again = await send(gamma, method, path, captured, bytes);
      assert.equal(again.status, 409, again.text);
      assert.equal(again.code, 'NONCE_REPLAYED');
    }
  });

  await t.test('peer-only routes verify the signature before reading or parsing a body', async () => {
    // A nesting bomb: invalid JSON (400) if it were parsed.
    const bomb = new Uint8Array(200_000).fill(0x5b);
    const unsigned = await send(alpha, 'POST', EVIDENCE, {}, bomb);
    assert.equal(unsigned.status, 401, unsigned.text);
    assert.equal(unsigned.code, 'SIGNATURE_MISSING');
    // Far beyond the peer body limit: still 401, not 413, since the body is not read.
    const huge = new Uint8Array(8 * 1024 * 1024).fill(0x5b);
    const big = await send(alpha, 'POST', EVIDENCE, {}, huge);
    assert.equal(big.status, 401, big.text);
    const elsewhere = await send(
      alpha,
      'POST',
      EVIDENCE,
      signedBy(beta, 'POST', targetOf(gamma, EVIDENCE), bomb),
      bomb,
    );
    assert.equal(elsewhere.status, 401, elsewhere.text);
    assert.equal(elsewhere.code, 'SIGNATURE_INVALID');
    // Signed for `{}`, sent with the bomb: the digest fails before any parsing.
    const swapped = await send(
      alpha,
      'POST',
      EVIDENCE,
      signedBy(beta, 'POST', targetOf(alpha, EVIDENCE), canonicalBytes({})),
      bomb,
    );
    assert.equal(swapped.status, 401, swapped.text);
    assert.equal(swapped.code, 'CONTENT_DIGEST_MISMATCH');
    // A registry peer's own bytes are parsed, strictly, once they verified.
    const parsed = await send(alpha, 'POST', EVIDENCE, signedBy(beta, 'POST', targetOf(alpha, EVIDENCE), bomb), bomb);
    assert.equal(parsed.status, 400, parsed.text);
    assert.equal(parsed.code, 'INVALID_JSON');
    const tooBig = new Uint8Array(PEER_BODY_LIMIT_BYTES + 1).fill(0x5b);
    const over = await send(alpha, 'POST', EVIDENCE, signedBy(beta, 'POST', targetOf(alpha, EVIDENCE), tooBig), tooBig);
    assert.equal(over.status, 413, over.text);
    // The node is fine.
    assert.equal((await fetch(`${alpha.url}/healthz`, { signal: AbortSignal.timeout(2000) })).status, 200);
  });
});
