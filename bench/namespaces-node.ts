// A real `remembrancer serve` process on loopback with one namespace per kind of rule the
// namespaces area measures: open (admin token), schema policy with a token writer, and an Ed25519
// key writer whose every entry is signed. Rules are set the way an operator sets them: the schema
// through POST /v1/governance (schema.register@1.0.0 signed by the node's operator key), the
// namespaces through PUT /v1/ns/{ns} with the admin token.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSchemaRegister, crypto, publicKeyBase64, signGovernanceDocument, toHex } from '@vaultmesh/core';
import { initNode } from '../packages/node/src/config/node-config.ts';
import { tokenSha256 } from '../packages/node/src/namespaces/writer-authorization.ts';
import { startServe, type ServeProcess } from '../test/e2e/harness/cli-process.ts';

export const NS_OPEN = 'bench:ns-open';
export const NS_SCHEMA = 'bench:ns-schema';
export const NS_SIGNED = 'bench:ns-signed';
export const BENCH_SCHEMA_ID = 'bench.entry@1.0.0';
export const SIGNER_ID = 'bench-signer';

/** The schema every entry of NS_SCHEMA is validated against (ajv strict mode, as the node compiles it). */
export const BENCH_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['kind', 'n', 'note'],
  properties: {
    kind: { type: 'string', enum: ['bench', 'memory'] },
    n: { type: 'integer', minimum: 0 },
    note: { type: 'string', maxLength: 200 },
  },
  additionalProperties: false,
};

export interface RulesNode {
  node: ServeProcess;
  url: string;
  adminToken: string;
  /** Bearer token of NS_SCHEMA's writer (scope write). */
  writerToken: string;
  /** Seed of NS_SIGNED's key writer SIGNER_ID. */
  signerSeed: Uint8Array;
  stop(): Promise<void>;
}

async function expectStatus(res: Response, status: number, what: string): Promise<void> {
  const body = await res.text();
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status}: ${body.slice(0, 300)}`);
}

export async function startRulesNode(): Promise<RulesNode> {
  const dir = mkdtempSync(join(tmpdir(), 'remembrancer-bench-ns-'));
  try {
    const identity = initNode(join(dir, 'node'), 'bench.vaultmesh.local', { listen: '127.0.0.1:0' });
    const node = await startServe(identity.dataDir);
    const stop = async () => {
      await node.stop();
      rmSync(dir, { recursive: true, force: true });
    };
    try {
      const admin = { authorization: `Bearer ${identity.adminToken}`, 'content-type': 'application/json' };
      const writerToken = `bench-writer-${toHex(crypto.randomBytes(16))}`;
      const signerSeed = crypto.randomBytes(32);

      const register = signGovernanceDocument(
        buildSchemaRegister({ schema_id: BENCH_SCHEMA_ID, definition: BENCH_SCHEMA }),
        identity.operatorId,
        identity.operatorSeed,
      );
      await expectStatus(
        await fetch(`${node.url}/v1/governance`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(register),
        }),
        201,
        'schema.register',
      );

      const specs: Record<string, unknown> = {
        [NS_OPEN]: { description: 'open namespace: admin token, any entry' },
        [NS_SCHEMA]: {
          description: 'schema policy and a token writer',
          schema_policy: { allow: ['bench.entry@^1.0.0'] },
          writers: [{ id: 'bench-bot', token_sha256: tokenSha256(writerToken), scopes: ['write'] }],
        },
        [NS_SIGNED]: {
          description: 'an Ed25519 key writer; every entry signed',
          writers: [{ id: SIGNER_ID, ed25519: publicKeyBase64(signerSeed) }],
        },
      };
      for (const [ns, spec] of Object.entries(specs)) {
        await expectStatus(
          await fetch(`${node.url}/v1/ns/${ns}`, { method: 'PUT', headers: admin, body: JSON.stringify(spec) }),
          201,
          `PUT /v1/ns/${ns}`,
        );
      }
      return { node, url: node.url, adminToken: identity.adminToken, writerToken, signerSeed, stop };
    } catch (e) {
      await stop();
      throw e;
    }
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
