import { readFileSync, writeFileSync } from 'node:fs';
import { parseGovernanceDocument, signDocument } from '@vaultmesh/core';
import { readKeyFile } from '@vaultmesh/node';
import { clientFrom, type ConnectionOptions } from '../client/connection.js';
import { UsageError, printResult } from '../output.js';
import { tokenLines, type SpecOptions } from './namespace-spec-options.js';

export type SignOptions = SpecOptions & ConnectionOptions & { operatorId?: string[] };

/** Each --sign-with key file with its operator id: --operator-id given once per key, in the same order. */
export function signers(opts: SignOptions): { id: string; seed: Uint8Array }[] {
  const files = opts.signWith ?? [];
  let ids = opts.operatorId ?? [];
  if (ids.length === 0 && opts.data && files.length === 1) {
    ids = [`${(JSON.parse(readFileSync(`${opts.data}/config.json`, 'utf8')) as { name: string }).name}/operator`];
  }
  if (ids.length !== files.length)
    throw new UsageError(`give one --operator-id per --sign-with key (${files.length} keys, ${ids.length} ids)`);
  return files.map((f, i) => ({ id: ids[i]!, seed: readKeyFile(f, 'operator') }));
}

/** Offline path: build the governance document here, sign it with operator key files, then submit or save it. */
export async function signAndSubmit(
  opts: SignOptions,
  doc: Record<string, unknown>,
  tokens: Record<string, string>,
): Promise<void> {
  let signed: Record<string, unknown> = doc;
  for (const k of signers(opts)) signed = signDocument(signed, k.id, k.seed);
  parseGovernanceDocument(signed);
  if (opts.out) {
    writeFileSync(opts.out, JSON.stringify(signed, null, 2) + '\n');
    printResult(
      opts,
      { document: signed, tokens },
      () =>
        `wrote ${opts.out}; more operators sign it with 'ns sign ${opts.out} --sign-with KEY --operator-id ID', then 'ns submit ${opts.out}'`,
    );
    return;
  }
  const client = clientFrom(opts);
  const r = await client.json<{ index: number; schema: string; effective: boolean; effective_after: string }>(
    'POST',
    '/v1/governance',
    signed,
  );
  printResult(
    opts,
    { ...r, tokens },
    () =>
      `${r.schema} recorded as governance #${r.index}, ${r.effective ? 'in force' : `effective after ${r.effective_after}`}${tokenLines(tokens)}`,
  );
}
