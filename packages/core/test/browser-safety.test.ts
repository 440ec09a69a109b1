import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// core must run in the browser: only the node crypto provider (picked by the `#crypto` import
// condition) may touch Node built-ins.
const src = fileURLToPath(new URL('../src', import.meta.url));
const ALLOWED = new Set([join(src, 'crypto', 'provider-node.ts')]);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('core sources import no Node built-ins and use no Buffer', () => {
  for (const f of files(src)) {
    if (ALLOWED.has(f)) continue;
    const text = readFileSync(f, 'utf8');
    assert.doesNotMatch(text, /from\s+['"]node:|require\(|\bBuffer\b|\bprocess\./, `${f} is not browser-safe`);
  }
});
