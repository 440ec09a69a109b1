import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { RemembrancerError } from '@vaultmesh/core';

/*
 * Checks shared by the parsers of config.json's `anchoring` section (anchoring-config.ts for the
 * section and its RFC 3161 targets, chain-target-config.ts for EVM and Bitcoin targets). Every
 * failure is CONFIG_INVALID naming the file and the member's path.
 */

export function invalid(file: string, pointer: string, why: string): never {
  throw new RemembrancerError('CONFIG_INVALID', `${file}: anchoring${pointer} ${why}`);
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function onlyMembers(file: string, pointer: string, v: Record<string, unknown>, allowed: Set<string>): void {
  for (const k of Object.keys(v)) {
    if (!allowed.has(k)) invalid(file, pointer, `has an unknown member "${k}" (known: ${[...allowed].join(', ')})`);
  }
}

export function durationMs(
  file: string,
  pointer: string,
  v: unknown,
  fallback: number,
  min: number,
  max: number,
): number {
  return integerIn(file, pointer, v, fallback, min, max, ' (ms)');
}

export function integerIn(
  file: string,
  pointer: string,
  v: unknown,
  fallback: number,
  min: number,
  max: number,
  unit = '',
): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max)
    invalid(file, pointer, `must be an integer from ${min} to ${max}${unit}`);
  return v as number;
}

/** An http(s) URL without credentials in it (they would be logged with the URL). */
export function httpUrl(file: string, pointer: string, v: unknown): string {
  let url: URL;
  try {
    url = new URL(String(v));
  } catch {
    invalid(file, pointer, 'must be an http(s) URL');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || typeof v !== 'string')
    invalid(file, pointer, 'must be an http(s) URL');
  if (url.username !== '' || url.password !== '')
    invalid(file, pointer, 'must not hold credentials (give them in a secret file)');
  return v;
}

/**
 * The path of a secret file (a signing key, an RPC password), relative to the data directory:
 * it must exist and be readable by its owner only (mode 0600 or stricter), as ssh demands of a
 * private key: a key others can read is a key others may have copied.
 */
export function secretFile(file: string, pointer: string, v: unknown, dataDir: string): string {
  if (typeof v !== 'string' || v === '') invalid(file, pointer, 'must be the path of a file');
  const path = isAbsolute(v) ? v : join(dataDir, v);
  let mode: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) invalid(file, pointer, `names ${path}, which is not a file`);
    mode = st.mode;
  } catch (e) {
    if (e instanceof RemembrancerError) throw e;
    invalid(file, pointer, `names ${path}, which cannot be read`);
  }
  if ((mode & 0o077) !== 0)
    invalid(
      file,
      pointer,
      `names ${path} with mode ${(mode & 0o777).toString(8)}: a secret file must be readable by its owner only (chmod 600)`,
    );
  return path;
}

/** A secret file's text without its trailing newline. */
export function readSecret(path: string): string {
  return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
}
